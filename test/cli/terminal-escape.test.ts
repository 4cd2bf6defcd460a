/**
 * Issue #17 point 3: a capture whose Call-ID, From display name and User-Agent hold terminal escape sequences
 * (OSC retitle `ESC ]0;pwned BEL`, CSI clear `ESC [2J`, 8-bit CSI/OSC C1 controls, DEL) — and a file name holding
 * them too — goes through `analyze` (table), the daemon (console alert lines and its log lines) and `tail` (lines
 * and --json). Not one byte 0x00–0x1f (but the newline ending each line) or 0x7f–0x9f reaches those outputs; the
 * hostile values are there, written as visible escapes. `tail` given `?token=T` never prints T.
 *
 * The capture is crafted here at test time (one UDP INVITE on a raw-IP pcap, documentation addresses).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { udpPacket } from '../../scripts/lib/packets.js';
import { PcapWriter } from '../../src/sources/capture/writer.js';
import { LinkType } from '../../src/types.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');

/** OSC 0 (window title) ended by BEL, then CSI 2J (clear screen). */
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J';
/** The same as C1 controls (U+009B CSI, U+009D OSC, UTF-8 encoded as phones send text) plus DEL. */
const HOSTILE_C1 = '\u009b2J\u009d0;t\u0007\u007f';
/** A raw 8-bit CSI byte (not UTF-8): decoded as U+FFFD, but it must not reach a terminal as 0x9b either. */
const RAW_CSI = Buffer.from([0x9b, 0x33, 0x31, 0x6d]);
const TOKEN = 'tail-secret-token-5c1f';

function hostileInvite(): Buffer {
  const text = (s: string) => Buffer.from(s, 'utf8');
  return Buffer.concat([
    text(
      [
        'INVITE sip:+31301234500@192.0.2.2 SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKesc1',
        `From: "Example Bank${HOSTILE}${HOSTILE_C1}" <sip:+31612345678@192.0.2.1>;tag=a1`,
        'To: <sip:+31301234500@192.0.2.2>',
        `Call-ID: esc-${HOSTILE}-`,
      ].join('\r\n'),
    ),
    RAW_CSI,
    text(`${HOSTILE_C1}@192.0.2.1\r\nCSeq: 1 INVITE\r\nUser-Agent: friendly-scanner ${HOSTILE}${HOSTILE_C1}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`),
  ]);
}

function hostileCapture(): Buffer {
  const w = new PcapWriter({ linkType: LinkType.RAW });
  w.add({ ts: { sec: 1_700_000_000, nsec: 0 }, bytes: udpPacket('192.0.2.1', 5060, '192.0.2.2', 5060, hostileInvite()) });
  return w.toBuffer();
}

/** Offsets of bytes a terminal may act on: C0 but LF, DEL, and 0x80–0x9f (C1, or a UTF-8 byte of one). */
function controlBytes(out: Buffer): string[] {
  const bad: string[] = [];
  for (let i = 0; i < out.length; i++) {
    const b = out[i]!;
    if ((b < 0x20 && b !== 0x0a) || (b >= 0x7f && b <= 0x9f)) bad.push(`0x${b.toString(16)}@${i}`);
  }
  return bad;
}

/** The Call-ID as every human output shows it (the raw 0x9b byte was decoded to U+FFFD by the SIP parser). */
const CALL_ID_SHOWN = 'esc-\\x1b]0;pwned\\x07\\x1b[2J-\ufffd31m\\x9b2J\\x9d0;t\\x07\\x7f@192.0.2.1';

let dir: string;
let capture: string;

beforeAll(() => {
  const r = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  if (r.status !== 0) throw new Error('node cannot run');
  dir = mkdtempSync(join(tmpdir(), 'sw-escape-'));
  capture = join(dir, 'hostile.pcap');
  writeFileSync(capture, hostileCapture());
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('terminal-safe output (issue #17)', () => {
  it('analyze table: the hostile Call-ID, display name and file name are shown as visible escapes; no control byte on stdout', () => {
    const named = join(dir, `evil-${HOSTILE}-\u009b.pcap`);
    writeFileSync(named, hostileCapture());
    const r = spawnSync(process.execPath, [CLI, 'analyze', named], { cwd: ROOT });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(controlBytes(out)).toEqual([]);
    const text = out.toString('utf8');
    // The Incidents section comes first (issue #19): 3 incidents (one per rule), then the file line.
    expect(text.split('\n')[0]).toBe('Incidents (3)');
    expect(text.slice(text.indexOf('\n\n') + 2).split('\n')[0]).toBe(`${dir}/evil-\\x1b]0;pwned\\x07\\x1b[2J-\\x9b.pcap: pcap, ${hostileCapture().length} bytes, 1 frames, 1 SIP messages`);
    const rows = text.split('\n').filter((l) => l.includes(CALL_ID_SHOWN));
    // one row in "Calls with alerts", one per alert
    expect(rows).toHaveLength(4);
    expect(text).toContain(`Display name "Example Bank\\x1b]0;pwned\\x07\\x1b[2J\\x9b2J\\x9d0;t\\x07\\x7f" impersonates Examplebank from +31612345678`);
    expect(rows.filter((l) => /^ {2}(HIGH|MEDIUM) +(DISPLAY-IMPERSONATION|SRC-UNKNOWN-PEER|UA-ATTACK-TOOL) /.test(l)).map((l) => l.split(/ +/)[2])).toEqual([
      'DISPLAY-IMPERSONATION',
      'SRC-UNKNOWN-PEER',
      'UA-ATTACK-TOOL',
    ]);
  });

  it('analyze errors on stderr name a hostile file name escaped', () => {
    const bad = join(dir, `bad-${HOSTILE}.pcap`);
    writeFileSync(bad, 'garbage');
    const r = spawnSync(process.execPath, [CLI, 'analyze', bad], { cwd: ROOT });
    expect(controlBytes(r.stdout)).toEqual([]);
    expect(controlBytes(r.stderr)).toEqual([]);
    expect(r.stderr.toString('utf8')).toBe(`spoofwatch: ${dir}/bad-\\x1b]0;pwned\\x07\\x1b[2J.pcap: not a pcap or pcapng capture (magic 0x67617262) at byte 0\n`);
  });

  it('daemon console and log lines, tail lines and tail --json: no control byte; tail never prints its ?token=', async () => {
    const watch = join(dir, 'inbox');
    mkdirSync(watch);
    const cfg = join(dir, 'spoofwatch.yaml');
    writeFileSync(
      cfg,
      [
        'lists:',
        '  brands:',
        '    - { name: Examplebank, displayNames: [Example Bank], numbers: ["+31201234000-+31201234099"] }',
        'server:',
        '  host: 127.0.0.1',
        `  tokens: ["${TOKEN}"]`,
        '',
      ].join('\n'),
    );
    const procs: ChildProcess[] = [];
    const run = (args: string[]) => {
      const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(p);
      const io = { out: Buffer.alloc(0), err: Buffer.alloc(0) };
      p.stdout!.on('data', (d: Buffer) => (io.out = Buffer.concat([io.out, d])));
      p.stderr!.on('data', (d: Buffer) => (io.err = Buffer.concat([io.err, d])));
      return io;
    };
    const lines = (b: Buffer) => b.toString('utf8').split('\n').filter((l) => l !== '');
    const until = async (cond: () => boolean, what: string) => {
      const end = Date.now() + 20_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      const daemon = run([
        'daemon', '--config', cfg, '--print-alerts', '--http-port', '0', '--sip-port', '0', '--hep-port', '0',
        '--watch', watch, '--store', join(dir, 'a.db'), '--log-level', 'info',
      ]);
      await until(() => /alerts: ws:\/\/127\.0\.0\.1:\d+\/alerts/.test(daemon.err.toString()), 'the daemon to listen');
      const ws = /alerts: (ws:\/\/127\.0\.0\.1:\d+\/alerts)/.exec(daemon.err.toString())![1]!;
      writeFileSync(join(watch, `evil-${HOSTILE}-\u009b.pcap`), hostileCapture());
      await until(() => lines(daemon.out).length >= 3, 'three console alert lines');
      await until(() => daemon.err.toString().includes('capture file read'), 'the log line naming the file');

      const tail = run(['tail', `${ws}?token=${TOKEN}`, '--since', '0']);
      const tailJson = run(['tail', ws, '--token', TOKEN, '--since', '0', '--json']);
      await until(() => lines(tail.out).length >= 3 && lines(tailJson.out).length >= 3, 'tail lines');

      for (const [name, b] of [['daemon stdout', daemon.out], ['daemon stderr', daemon.err], ['tail stdout', tail.out], ['tail stderr', tail.err], ['tail --json stdout', tailJson.out], ['tail --json stderr', tailJson.err]] as const) {
        expect({ name, bad: controlBytes(b) }).toEqual({ name, bad: [] });
      }
      // The hostile values did reach each output, escaped.
      for (const l of [...lines(daemon.out), ...lines(tail.out)]) expect(l).toMatch(new RegExp(`^#[123] \\S+ (HIGH|MEDIUM) +\\S+ peer=- src=192\\.0\\.2\\.1:5060/udp presented=\\+31612345678 .* \\(Call-ID ${CALL_ID_SHOWN.replace(/[\\[\]().*+?^$|]/g, '\\$&')}\\)$`));
      expect(lines(tail.out)).toEqual(lines(daemon.out));
      const logged = lines(daemon.err).map((l) => JSON.parse(l) as { message: string; path?: string });
      expect(logged.find((l) => l.message === 'capture file read')?.path).toBe(join(watch, `evil-${HOSTILE}-\u009b.pcap`));
      const viaJson = lines(tailJson.out).map((l) => JSON.parse(l) as { call: { callId: string }; evidence: { header: string; value: string }[] });
      expect(viaJson.map((a) => a.call.callId)).toEqual(Array(3).fill(`esc-${HOSTILE}-\ufffd31m${HOSTILE_C1}@192.0.2.1`));
      expect(viaJson.flatMap((a) => a.evidence).find((e) => e.header === 'User-Agent')?.value).toBe(`friendly-scanner ${HOSTILE}${HOSTILE_C1}`);

      const status = tail.err.toString('utf8');
      expect(status).toContain(`spoofwatch tail: connected to ${ws}?token=<redacted> (server lastSeq 3, resuming after 0)`);
      expect(status).not.toContain(TOKEN);
      expect(tailJson.err.toString('utf8')).not.toContain(TOKEN);
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', r)))));
    }
  }, 40_000);
});
