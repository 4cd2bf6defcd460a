/**
 * The SIP stage (DESIGN.md §3): Datagram payloads in, `SipMessage`s out.
 * UDP: `looksLikeSip(payload)` then `parseSipMessage(payload, frame, scratch)` (the caller's SipParseScratch).
 * TCP/TLS/WS streams: one `SipStreamFramer` per flow direction, then `parseSipMessage(m.bytes, m.frame, scratch)`.
 */
export { looksLikeSip, isSipStartLine } from './startline.js';
export {
  MAX_HEADER_LINE,
  MAX_MESSAGE,
  SipAnomaly,
  messageAnomalies,
  parseIfSip,
  parseSipMessage,
  SipParseScratch,
  sipMessageFromSplit,
  splitOf,
  type SipSplit,
  type SipAnomalyKind,
  type SipInvalid,
  type SipMessage,
  type SipMessageBase,
  type SipParse,
  type SipRequest,
  type SipResponse,
} from './message.js';
export {
  FramerAnomaly,
  SipStreamFramer,
  type FramedMessage,
  type FramerLimits,
  type StreamBudget,
  type FramerStats,
  type StreamChunk,
} from './framer.js';
export { parseUri, userOf } from './uri.js';
export { parseNameAddr, parseNameAddrList, splitList } from './nameaddr.js';
export {
  parseCSeq,
  parseDiversion,
  parseHistoryInfo,
  parseIdentity,
  parsePrivacy,
  parseRpid,
  parseTopVia,
  parseVia,
} from './headers.js';
export { COMPACT_FORMS, canonicalize } from './names.js';
export type * from './model.js';
