import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseSipMessage, type SipMessage } from '../../src/sip/index.js';
import type { Invalid, NameAddr } from '../../src/sip/model.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sip');

/** Bytes of test/fixtures/sip/<set>/<name>.sip */
export function fixture(set: 'rfc4475' | 'corpus', name: string): Buffer {
  return readFileSync(join(fixtures, set, `${name}.sip`));
}

export function corpusNames(): string[] {
  return JSON.parse(readFileSync(join(fixtures, 'corpus', 'index.json'), 'utf8')) as string[];
}

export function rfc4475Index(): Record<string, string> {
  return JSON.parse(readFileSync(join(fixtures, 'rfc4475', 'index.json'), 'utf8')) as Record<string, string>;
}

/** Join lines with CRLF (or `eol`) and end the header section; `body` follows the empty line. */
export function sip(lines: string[], body = '', eol = '\r\n'): Buffer {
  return Buffer.from(lines.join(eol) + eol + eol + body, 'utf8');
}

export function parsed(bytes: Buffer): SipMessage {
  const m = parseSipMessage(bytes);
  if (m.kind === 'invalid') throw new Error(`expected a message, got invalid: ${m.reason}`);
  return m;
}

export function nameAddr(v: NameAddr | Invalid | undefined): NameAddr {
  expect(v?.kind).toBe('name-addr');
  return v as NameAddr;
}

export function kinds(m: SipMessage): string[] {
  return m.collectAnomalies().map((a) => a.kind);
}
