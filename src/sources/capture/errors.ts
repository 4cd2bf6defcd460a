import { SpoofwatchError } from '../../types.js';

/**
 * Stable codes of capture-reading errors (DESIGN.md §8.6). Callers branch on these, never on the text.
 *
 * - `CAPTURE_EMPTY`: the input has 0 bytes.
 * - `CAPTURE_NOT_A_CAPTURE`: the first bytes are no pcap/pcapng magic.
 * - `CAPTURE_TRUNCATED`: the input ends inside a record/block (or inside a gzip stream).
 * - `CAPTURE_CORRUPT`: a length or reference in a record/block is impossible; reading stopped there.
 * - `CAPTURE_IO`: the file/stream could not be read at all (ENOENT, EACCES, EISDIR …); not a format error.
 */
export type CaptureErrorCode =
  | 'CAPTURE_EMPTY'
  | 'CAPTURE_NOT_A_CAPTURE'
  | 'CAPTURE_TRUNCATED'
  | 'CAPTURE_CORRUPT'
  | 'CAPTURE_IO';

/**
 * A capture-reading error, delivered as a value (never thrown by the parser).
 * `offset` counts decompressed bytes from the start of the capture and points at the start of the
 * record/block that could not be read; nothing at or after `offset` was delivered.
 * Message form: `<file>: <what> at byte <offset>`.
 */
export class CaptureError extends SpoofwatchError {
  constructor(
    override readonly code: CaptureErrorCode,
    /** File name as given by the caller ('-' for stdin, '<capture>' when unnamed). */
    readonly file: string,
    /** Decompressed byte offset of the record/block that failed. */
    readonly offset: number,
    /** What went wrong, without file and offset. */
    readonly what: string,
    /** CAPTURE_TRUNCATED: bytes the record/block needed (counted from `offset`). */
    readonly need?: number,
    /** CAPTURE_TRUNCATED: bytes that were present from `offset` to the end of input. */
    readonly have?: number,
  ) {
    super(code, `${file}: ${what} at byte ${offset}`);
    this.name = 'CaptureError';
  }
}
