/** The header-name state machine (the split's, and identifyName's) must recognise exactly the known spellings. */
import { describe, expect, it } from 'vitest';
import { COMPACT_FORMS, EAGER_NAMES, NAME_ACCEPT, NAME_END, NAME_STATES, identifyName } from '../../src/sip/names.js';
import { parseSipMessage } from '../../src/sip/index.js';

/** Walk the machine over `name` followed by ':' as the split does; the id at the ':' (or -1 if it stopped early). */
function machineId(name: string): number {
  const buf = Buffer.from(`${name}:`, 'latin1');
  let st = 0;
  let p = 0;
  while (p < buf.length) {
    const ns = NAME_STATES[(st << 8) | buf[p]!]!;
    if (ns === NAME_END) break;
    st = ns;
    p++;
  }
  return p === buf.length - 1 ? NAME_ACCEPT[st]! : -1;
}

/** The reference, as strings: ASCII-lowercase, expand a compact form, and the id is the name's place in EAGER_NAMES. */
function byCompare(name: string): number {
  const lower = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const full = Object.hasOwn(COMPACT_FORMS, lower) ? COMPACT_FORMS[lower]! : lower;
  return Math.max(0, (EAGER_NAMES as readonly string[]).indexOf(full));
}

/** identifyName over the name inside a larger buffer (as the framer and the split's fallback call it). */
function identified(name: string): number {
  const buf = Buffer.from(`xx${name}:yy`, 'latin1');
  return identifyName(buf, 2, 2 + Buffer.byteLength(name, 'latin1'));
}

const SPELLINGS = [...EAGER_NAMES.filter((n) => n !== ''), ...Object.keys(COMPACT_FORMS)];

function caseVariants(s: string): string[] {
  const title = s.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
  const alternating = [...s].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
  return [s, s.toUpperCase(), title, alternating];
}

describe('header-name state machine', () => {
  it('gives every known spelling, in any case, its id (never 0)', () => {
    for (const name of SPELLINGS) {
      for (const v of caseVariants(name)) {
        expect(machineId(v), v).toBe(byCompare(v));
        expect(identified(v), v).toBe(byCompare(v));
        expect(machineId(v), v).not.toBe(0);
      }
    }
  });

  it('gives prefixes, extensions and near misses of known names 0', () => {
    const others: string[] = ['', 'x-from', 'fromm', 'fro', 'p-asserted-identity', 'user-agent', 'allow', 'via-x', 'c-', 'call_id', 'cseq1'];
    for (const name of SPELLINGS) {
      for (let i = 1; i < name.length; i++) others.push(name.slice(0, i));
      others.push(`${name}x`, `${name}-`, `x${name}`, name.replace(/-/g, '_'));
    }
    for (const v of others) {
      expect(machineId(v), v).toBe(byCompare(v));
      expect(identified(v), v).toBe(byCompare(v));
    }
  });

  it('agrees with the reference on random names over the name alphabet', () => {
    const alphabet = 'fromtcalidsqvenhgxyzFROMTCALID-_.!%*+~0123456789\x80\xff';
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let k = 0; k < 20_000; k++) {
      let s = '';
      const len = 1 + rnd(16);
      for (let i = 0; i < len; i++) s += alphabet[rnd(alphabet.length)];
      expect(machineId(s), s).toBe(byCompare(s));
      expect(identified(s), s).toBe(byCompare(s));
    }
  });

  it('recognises names in a message whatever their case or form, with whitespace before the colon too', () => {
    const text = [
      'INVITE sip:+31201234567@example.net SIP/2.0',
      'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1',
      'MAX-FORWARDS: 70',
      'f : <sip:+31104567890@example.net>;tag=1',
      'To\t: <sip:+31201234567@example.net>',
      'call-ID: m1@x',
      'CSeq: 1 INVITE',
      'l: 0',
      '',
      '',
    ].join('\r\n');
    const m = parseSipMessage(Buffer.from(text, 'latin1'));
    if (m.kind === 'invalid') throw new Error(m.reason);
    // No missing-header anomaly: every mandatory header was recognised by its id.
    expect(m.anomalies).toEqual([]);
    expect(m.callId).toBe('m1@x');
    expect(m.header('from')).toBe('<sip:+31104567890@example.net>;tag=1');
    expect(m.header('to')).toBe('<sip:+31201234567@example.net>');
    expect(m.contentLength).toBe(0);
  });
});
