/**
 * Issue #17 point 8: a pcapng whose interface has `if_tsoffset` = 2^60 s (pcapng §4.2 option 14) made `analyze`
 * print only "Invalid time value" and lose the whole report. The capture time is kept as found, shown as an
 * invalid time, counted as the anomaly `capture.time-out-of-range`, and the report is printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { udpFrame } from '../../bench/capture.js';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { formatTable } from '../../src/commands/format.js';
import { defaultConfig } from '../../src/config/index.js';
import { captureIso } from '../../src/alerts/from-finding.js';
import { tempDir } from '../daemon/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const tmp = tempDir('spoofwatch-tsoffset-');
afterAll(tmp.cleanup);

/** A pcapng block: type, total length, body (already padded to 4), total length again. */
function block(type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(12 + body.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  body.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

/** SHB, an Ethernet IDB with `if_tsoffset` = `offset` s (µs resolution), one EPB at 1 ms holding an INVITE. */
function tsoffsetCapture(file: string, offset: bigint): void {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8 + 12 + 4);
  idb.writeUInt16LE(1, 0); // LINKTYPE_ETHERNET
  idb.writeUInt32LE(65535, 4);
  idb.writeUInt16LE(14, 8); // if_tsoffset
  idb.writeUInt16LE(8, 10);
  idb.writeBigInt64LE(offset, 12); // then opt_endofopt (zeros)
  const sip = Buffer.from(
    [
      'INVITE sip:+31201234567@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-tsoffset',
      'Max-Forwards: 70',
      'From: <sip:+31301234567@127.0.0.66>;tag=a',
      'To: <sip:+31201234567@127.0.0.1>',
      'Call-ID: tsoffset@test',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  const frame = udpFrame('127.0.0.66', 5060, '127.0.0.1', 5060, sip, 1);
  const epb = Buffer.alloc(20 + frame.length + ((4 - (frame.length % 4)) % 4));
  epb.writeUInt32LE(0, 0); // interface 0
  epb.writeUInt32LE(0, 4); // timestamp high
  epb.writeUInt32LE(1000, 8); // timestamp low: 1000 µs
  epb.writeUInt32LE(frame.length, 12);
  epb.writeUInt32LE(frame.length, 16);
  frame.copy(epb, 20);
  writeFileSync(file, Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), block(6, epb)]));
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('if_tsoffset beyond any date', () => {
  const file = join(tmp.dir, 'tsoffset-2e60.pcapng');
  const negative = join(tmp.dir, 'tsoffset-minus-2e60.pcapng');
  const sane = join(tmp.dir, 'tsoffset-1e9.pcapng');
  beforeAll(() => {
    tsoffsetCapture(file, 1n << 60n);
    tsoffsetCapture(negative, -(1n << 60n));
    tsoffsetCapture(sane, 1_000_000_000n);
    if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
    }
  }, 120_000);

  it('captureIso shows an invalid time instead of throwing; ordinary times are unchanged', () => {
    expect(captureIso({ sec: 2 ** 60, nsec: 1_000_000 })).toBe('invalid time (1152921504606847000.001000000 s)');
    expect(captureIso({ sec: -(2 ** 60), nsec: 0 })).toBe('invalid time (-1152921504606847000.000000000 s)');
    expect(captureIso({ sec: 1_000_000_000, nsec: 1_000_000 })).toBe('2001-09-09T01:46:40.001000000Z');
  });

  it('analyze keeps the report: the alert, its invalid capture time and the anomaly count (both signs)', async () => {
    for (const [f, sign] of [[file, ''], [negative, '-']] as const) {
      const r = await analyzeFiles([f], defaultConfig());
      expect(r.files[0]?.error).toBeUndefined();
      expect([r.frames, r.sipMessages, r.calls]).toEqual([1, 1, 1]);
      expect(r.anomalies['capture.time-out-of-range']).toBe(1);
      expect(r.alerts.map((a) => [a.rule, a.call.callId, a.captureTs])).toEqual([
        ['SRC-UNKNOWN-PEER', 'tsoffset@test', `invalid time (${sign}1152921504606847000.001000000 s)`],
      ]);
      expect(formatTable(r, 'default')).toContain('anomalies: capture.time-out-of-range 1');
    }
    const ok = await analyzeFiles([sane], defaultConfig());
    expect(ok.anomalies['capture.time-out-of-range']).toBeUndefined();
    expect(ok.alerts.map((a) => a.captureTs)).toEqual(['2001-09-09T01:46:40.001000000Z']);
  });

  it('spoofwatch analyze (table, and with --evidence-dir) prints the whole report, exit 0, nothing on stderr', () => {
    const table = spawnSync(process.execPath, [CLI, 'analyze', file], { encoding: 'utf8', timeout: 20_000 });
    expect([table.status, table.stderr]).toEqual([0, '']);
    expect(table.stdout).toContain('frames 1   SIP messages 1   other payloads 0   calls 1   alerts 1   anomalies 1');
    expect(table.stdout).toContain('\nanomalies: capture.time-out-of-range 1\n');
    expect(table.stdout).toMatch(/MEDIUM {4}SRC-UNKNOWN-PEER {2}unknown 127\.0\.0\.66:5060 {2}\+31301234567 {2}tsoffset@test {2}1 /);
    // The evidence pcapng cannot hold such a time: no file for that alert, counted, the report still printed.
    const ev = spawnSync(process.execPath, [CLI, 'analyze', '--format', 'json', '--evidence-dir', join(tmp.dir, 'ev'), file], { encoding: 'utf8', timeout: 20_000 });
    expect([ev.status, ev.stderr]).toEqual([0, '']);
    const report = JSON.parse(ev.stdout) as { anomalies: Record<string, number>; evidenceFiles: string[] };
    expect(report.anomalies).toEqual({ 'capture.time-out-of-range': 1, 'evidence.unwritable': 1 });
    expect(report.evidenceFiles).toEqual([]);
  });
});
