/** Capture files: pure pcap/pcapng parsing, the file/stdin reader around it, and writers. */
export { CaptureError, type CaptureErrorCode } from './errors.js';
export {
  CaptureParser,
  parseCapture,
  pcapngTimestamp,
  MAX_BLOCK,
  MAX_CAPLEN,
  type CaptureFormat,
  type CaptureParserOptions,
} from './parser.js';
export {
  openCapture,
  readCapture,
  type CaptureProgress,
  type CaptureReader,
  type CaptureSummary,
  type OpenCaptureOptions,
} from './open.js';
export {
  PcapWriter,
  PcapngWriter,
  type CaptureSink,
  type Endianness,
  type PcapWriterOptions,
  type PcapngPacket,
  type PcapngWriterOptions,
  type WritePacket,
} from './writer.js';
