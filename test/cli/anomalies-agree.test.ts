/**
 * Issue #18.4: a message's anomalies are facts of the message, not of who looked. A capture crafted here holds every
 * anomaly kind of the SIP parser (SipAnomaly), one message per Call-ID; `messages`, `analyze --format json` and the
 * daemon (watched folder → /metrics and /api/alerts) must give the same list per message and the same counts.
 * Before the fix `analyze` missed what only lazy accessors find (an INVITE's contact-invalid, date-invalid) and the
 * daemon counted no SIP anomaly at all.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpFlags, tcpPacket, udpPacket } from '../../scripts/lib/packets.js';
import { MALFORMED_KINDS } from '../../src/correlate/facts.js';
import { SipAnomaly } from '../../src/sip/message.js';
import { PcapWriter } from '../../src/sources/capture/writer.js';
import { LinkType } from '../../src/types.js';
import { labConfig, metricValue, quietDaemon, tempDir, waitFor } from '../daemon/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const tmp = tempDir('spoofwatch-anomalies-');
afterAll(() => tmp.cleanup());

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** One request: start line, header lines (CRLF unless a line says otherwise), body; `end` replaces the empty line. */
function msg(start: string, headers: readonly string[], body = '', end = '\r\n'): Buffer {
  return Buffer.from(`${start}\r\n${headers.map((h) => (h.endsWith('\n') ? h : `${h}\r\n`)).join('')}${end}${body}`, 'latin1');
}

const RURI = 'sip:+31201234567@192.0.2.20';
/** The usual headers of call `n`, with `over` replacing (by name) or adding lines. */
function headers(n: number, over: Record<string, string | string[] | null> = {}, method = 'INVITE'): string[] {
  const base: Record<string, string | string[]> = {
    Via: `SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ag${n}`,
    'Max-Forwards': '70',
    From: `<sip:+31301234567@192.0.2.10>;tag=f${n}`,
    To: '<sip:+31201234567@192.0.2.20>',
    'Call-ID': `ag-${n}@spoofwatch.test`,
    CSeq: `1 ${method}`,
    Contact: '<sip:+31301234567@192.0.2.10:5060>',
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete base[k];
    else base[k] = v;
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(base)) for (const x of Array.isArray(v) ? v : [v]) out.push(x.startsWith('\u0000raw') ? x.slice(4) : `${k}: ${x}`);
  return out;
}
const raw = (line: string): string => `\u0000raw${line}`;

/** Messages over UDP, each holding one (or a few) anomalies; responses and BYEs pin the split-only rule. */
function udpMessages(): Buffer[] {
  let n = 0;
  const inv = (over: Record<string, string | string[] | null>, body = '', cl: string | null = String(body.length), start = `INVITE ${RURI} SIP/2.0`) =>
    msg(start, [...headers(++n, over), ...(cl === null ? [] : [`Content-Length: ${cl}`])], body);
  return [
    inv({ From: [`<sip:+31301234567@192.0.2.10>;tag=a`, `<sip:+31301111111@192.0.2.10>;tag=b`] }),
    inv({ To: ['<sip:+31201234567@192.0.2.20>', '<sip:+31209999999@192.0.2.20>'] }),
    inv({ 'Call-ID': [`ag-dup-${n + 1}@spoofwatch.test`, 'other@spoofwatch.test'] }),
    inv({ CSeq: ['1 INVITE', '2 INVITE'] }),
    msg(`INVITE ${RURI} SIP/2.0`, [...headers(++n), 'Content-Length: 0', 'Content-Length: 5']),
    inv({ 'X-Long': 'a'.repeat(1100) }),
    inv({ Subject: 'nul\u0000here' }),
    inv({ Subject: 'bare\rcr' }),
    msg(`INVITE ${RURI} SIP/2.0`, [...headers(++n), 'Subject: bare lf\n', 'Content-Length: 0']),
    inv({ Garbage: raw('Garbage line here') }),
    msg(`INVITE ${RURI} SIP/2.0`, [...headers(++n), 'Content-Length: 0'], '', ''),
    inv({}, '', '10'),
    inv({}, '', '-5'),
    inv({ 'Max-Forwards': null }),
    inv({}, '', '0', `INVITE  ${RURI} SIP/2.0`),
    msg(`\u0000\u0001INVITE ${RURI} SIP/2.0`, [...headers(++n), 'Content-Length: 0']),
    inv({}, '', '0', `INVITE ${RURI} sip/2.0`),
    inv({ CSeq: '1 invite' }, '', '0', `invite ${RURI} SIP/2.0`),
    inv({}, '', '0', `INVITE ${RURI} SIP/2.1`),
    inv({ To: '<sip:bo b@192.0.2.20>' }),
    inv({ Identity: '"unterminated' }),
    inv({ From: '\\"arik\\" <sip:816666@voip.example>;tag=1' }),
    inv({ From: 'Bank & Co. (NL) <sip:816666@voip.example>;tag=1' }),
    inv({ From: '<sip:816666@voip.example;tag=1' }),
    inv({ From: '<sip:816666@voip.example>;;tag=1' }),
    inv({ CSeq: 'abc INVITE' }),
    inv({ CSeq: '1 BYE' }),
    inv({ Via: 'garbage' }),
    inv({}, '', '0', 'INVITE sip:@ SIP/2.0'),
    inv({}, '', '0', `INVITE ${RURI}?Subject=hi SIP/2.0`),
    inv({ Contact: '<sip:a b@192.0.2.10>' }),
    inv({ Date: 'Sat, 13 Nov 2010 23:29:00 PST' }),
    // A REGISTER is checked fully too; a response and a BYE whose split is clean keep the split's list (none here).
    msg(`REGISTER sip:192.0.2.20 SIP/2.0`, [...headers(++n, { Contact: '<sip:a b@192.0.2.10>', CSeq: '1 REGISTER' }, 'REGISTER'), 'Content-Length: 0']),
    msg('SIP/2.0 200 OK', [...headers(++n, { Contact: '<sip:a b@192.0.2.20>' }), 'Content-Length: 0']),
    msg(`BYE ${RURI} SIP/2.0`, [...headers(++n, { Date: 'Sat, 13 Nov 2010 23:29:00 PST' }, 'BYE'), 'Content-Length: 0']),
  ];
}

/** A message larger than 64 KiB can only come over a stream: one TCP connection, segments of 1400 bytes. */
function tcpFrames(): Buffer[] {
  const body = 'v=0\r\n' + 'a=x:'.padEnd(70_000, 'y') + '\r\n';
  const big = msg(`INVITE sip:+31201234567@192.0.2.20;transport=tcp SIP/2.0`, [...headers(900, { Via: 'SIP/2.0/TCP 192.0.2.11:40500;branch=z9hG4bK-big' }), 'Content-Type: application/sdp', `Content-Length: ${body.length}`], body);
  const [a, ap, b, bp] = ['192.0.2.11', 40500, '192.0.2.20', 5060] as const;
  let seq = 1000;
  const out = [
    tcpPacket(a, ap, b, bp, { seq: seq++, flags: TcpFlags.SYN }),
    tcpPacket(b, bp, a, ap, { seq: 5000, ack: seq, flags: TcpFlags.SYN | TcpFlags.ACK }),
    tcpPacket(a, ap, b, bp, { seq, ack: 5001, flags: TcpFlags.ACK }),
  ];
  for (let i = 0; i < big.length; i += 1400) {
    const payload = big.subarray(i, Math.min(big.length, i + 1400));
    out.push(tcpPacket(a, ap, b, bp, { seq, ack: 5001, flags: TcpFlags.PSH | TcpFlags.ACK, payload }));
    seq += payload.length;
  }
  return out;
}

const file = join(tmp.dir, 'every-sip-anomaly.pcap');
const SIP_KINDS = Object.values(SipAnomaly) as string[];

interface MessageLine {
  frame: number;
  callId?: string;
  anomalies?: { kind: string; detail: string }[];
}
interface AlertLike {
  rule: string;
  call: { callId: string };
  reasons: string[];
}

function countsOf(lines: readonly MessageLine[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const l of lines) for (const a of l.anomalies ?? []) c[a.kind] = (c[a.kind] ?? 0) + 1;
  return c;
}
/** What MSG-MALFORMED must say per Call-ID: the message's malformed-kind anomalies as `kind: detail`. */
function malformedByCall(lines: readonly MessageLine[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of lines) {
    const r = (l.anomalies ?? []).filter((a) => MALFORMED_KINDS.has(a.kind)).map((a) => `${a.kind}: ${a.detail}`);
    if (r.length > 0 && l.callId !== undefined) out[l.callId] = r;
  }
  return out;
}
function reasonsByCall(alerts: readonly AlertLike[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of alerts) if (a.rule === 'MSG-MALFORMED') out[a.call.callId] = a.reasons;
  return out;
}
const onlySip = (c: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(c).filter(([k]) => SIP_KINDS.includes(k)));

let lines: MessageLine[] = [];

beforeAll(() => {
  const w = new PcapWriter({ linkType: LinkType.RAW });
  let sec = 1_764_000_000;
  for (const m of udpMessages()) w.add({ ts: { sec: sec++, nsec: 0 }, bytes: udpPacket('192.0.2.10', 5060, '192.0.2.20', 5060, m) });
  for (const f of tcpFrames()) w.add({ ts: { sec, nsec: 0 }, bytes: f });
  writeFileSync(file, w.toBuffer());
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'))) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
  }
  const r = spawnSync(process.execPath, [CLI, 'messages', file], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as MessageLine);
}, 120_000);

describe('the same anomalies per message through messages, analyze and the daemon', () => {
  it('the capture holds every SIP anomaly kind; messages lists them per message', () => {
    expect(lines.length).toBe(36);
    const counts = countsOf(lines);
    expect(SIP_KINDS.filter((k) => counts[k] === undefined)).toEqual([]);
    // The split-only rule: the 200 OK's bad Contact and the BYE's bad Date are not checked (no anomaly), the REGISTER's are.
    const byCall = (id: string) => lines.find((l) => l.callId === id)?.anomalies?.map((a) => a.kind);
    expect(byCall('ag-33@spoofwatch.test')).toEqual(['sip.contact-invalid']);
    expect(byCall('ag-34@spoofwatch.test')).toBeUndefined();
    expect(byCall('ag-35@spoofwatch.test')).toBeUndefined();
    expect(byCall('ag-32@spoofwatch.test')).toEqual(['sip.date-invalid']);
    expect(byCall('ag-31@spoofwatch.test')).toEqual(['sip.contact-invalid']);
  });

  it('analyze --format json counts the same kinds and MSG-MALFORMED says the same per message', () => {
    const r = spawnSync(process.execPath, [CLI, 'analyze', '--format', 'json', file], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    const rep = JSON.parse(r.stdout) as { anomalies: Record<string, number>; alerts: AlertLike[] };
    expect(onlySip(rep.anomalies)).toEqual(countsOf(lines));
    expect(reasonsByCall(rep.alerts)).toEqual(malformedByCall(lines));
  });

  it('the daemon reading the capture from its watched folder counts the same kinds in /metrics and alerts the same', async () => {
    const inDir = join(tmp.dir, 'in');
    mkdirSync(inDir);
    const d = await quietDaemon(labConfig({ store: join(tmp.dir, 'store.db'), watch: inDir }));
    try {
      copyFileSync(file, join(inDir, 'every.pcap'));
      await waitFor(() => (d.sources().find((s) => s.name === 'watch')?.counters.sipMessages ?? 0) >= 36, 15_000, 'capture read');
      const m = await (await fetch(d.urls.metrics)).text();
      const counts = countsOf(lines);
      const seen: Record<string, number> = {};
      for (const k of SIP_KINDS) {
        const v = metricValue(m, 'spoofwatch_anomalies_total', { source: 'watch', kind: k });
        if (!Number.isNaN(v) && v > 0) seen[k] = v;
      }
      expect(seen).toEqual(counts);
      const want = malformedByCall(lines);
      await waitFor(async () => {
        const api = (await (await fetch(`${d.urls.api}?limit=1000`)).json()) as { alerts: AlertLike[] };
        return Object.keys(reasonsByCall(api.alerts)).length >= Object.keys(want).length;
      }, 10_000, 'alerts stored');
      const api = (await (await fetch(`${d.urls.api}?limit=1000`)).json()) as { alerts: AlertLike[] };
      expect(reasonsByCall(api.alerts)).toEqual(want);
    } finally {
      await d.stop();
    }
  }, 30_000);
});
