/** Shared helpers for the capture tests: hand-written hex, frame normalisation, split feeding. */
import type { Frame } from '../../src/types.js';
import { CaptureParser } from '../../src/sources/capture/parser.js';
import type { CaptureError } from '../../src/sources/capture/errors.js';

/** Hex with whitespace and `// comments` allowed. */
export function hex(text: string): Buffer {
  const clean = text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex: ${clean}`);
  return Buffer.from(clean, 'hex');
}

export interface PlainFrame {
  number: number;
  sec: number;
  nsec: number;
  linkType: number;
  iface: number;
  origLen: number;
  bytes: string;
}

export function plain(f: Frame): PlainFrame {
  return {
    number: f.number,
    sec: f.ts.sec,
    nsec: f.ts.nsec,
    linkType: f.linkType,
    iface: f.iface,
    origLen: f.origLen,
    bytes: f.bytes.toString('hex'),
  };
}

export interface PlainError {
  code: string;
  offset: number;
  need: number | undefined;
  have: number | undefined;
  message: string;
}

export interface Outcome {
  frames: PlainFrame[];
  error: PlainError | undefined;
}

function plainError(e: CaptureError | undefined): PlainError | undefined {
  return e && { code: e.code, offset: e.offset, need: e.need, have: e.have, message: e.message };
}

/** Feed `chunks` to a fresh parser and collect the outcome. */
export function feed(chunks: readonly Buffer[], file = 'test.cap'): Outcome {
  const frames: PlainFrame[] = [];
  const p = new CaptureParser((f) => frames.push(plain(f)), { file });
  for (const c of chunks) p.push(c);
  p.end();
  return { frames, error: plainError(p.error) };
}

/** Every two-piece split plus one byte at a time: all must equal the single-chunk outcome. */
export function splitOutcomes(buf: Buffer, file = 'test.cap'): { whole: Outcome; mismatches: string[] } {
  const whole = feed([buf], file);
  const expected = JSON.stringify(whole);
  const mismatches: string[] = [];
  for (let i = 0; i <= buf.length; i++) {
    // Copies, so a slice that wrongly outlives its chunk would show as wrong bytes.
    const got = feed([Buffer.from(buf.subarray(0, i)), Buffer.from(buf.subarray(i))], file);
    if (JSON.stringify(got) !== expected) mismatches.push(`split at ${i}`);
  }
  const bytes: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) bytes.push(Buffer.from([buf[i]!]));
  if (JSON.stringify(feed(bytes, file)) !== expected) mismatches.push('one byte at a time');
  return { whole, mismatches };
}
