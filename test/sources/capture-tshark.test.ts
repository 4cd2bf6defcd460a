/**
 * tshark as the oracle: files from our writers must open in tshark with the same frames, timestamps and
 * comments; real captures must parse to the same frames tshark sees. Skipped (with a message) without tshark.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCapture } from '../../src/sources/capture/parser.js';
import { PcapngWriter, PcapWriter } from '../../src/sources/capture/writer.js';
import { tsString } from '../../src/types.js';

const TSHARK = '/usr/bin/tshark';
const haveTshark = existsSync(TSHARK);
if (!haveTshark) console.warn(`capture-tshark tests skipped: ${TSHARK} not found (apt-get install tshark)`);

const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIELDS = ['frame.number', 'frame.time_epoch', 'frame.interface_id', 'frame.len', 'frame.cap_len', 'frame.comment'];

/** tshark's view: one tab-separated line per frame. */
function tshark(path: string): string[] {
  const out = execFileSync(TSHARK, ['-r', path, '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20_000,
  });
  return out.split('\n').filter((l) => l !== '');
}

/** Our view of the same file in tshark's format. */
function ours(path: string, comments: (string | undefined)[] = []): string[] {
  const { frames, error } = parseCapture(readFileSync(path));
  expect(error).toBeUndefined();
  return frames.map((f) =>
    [f.number, tsString(f.ts), f.iface, f.origLen, f.bytes.length, comments[f.number - 1] ?? ''].join('\t'),
  );
}

const payload = (n: number): Buffer => Buffer.alloc(n, 0x41);

describe.skipIf(!haveTshark)('tshark opens our files', () => {
  for (const endianness of ['le', 'be'] as const) {
    for (const resolution of ['us', 'ns'] as const) {
      it(`pcap ${endianness} ${resolution}`, () => {
        const w = new PcapWriter({ linkType: 1, endianness, resolution });
        w.add({ ts: { sec: 1700000000, nsec: 123456789 }, bytes: payload(60) });
        w.add({ ts: { sec: 1700000001, nsec: 5000 }, bytes: payload(20), origLen: 1500 });
        const p = join(dir, `w-${endianness}-${resolution}.pcap`);
        writeFileSync(p, w.toBuffer());
        const frac1 = resolution === 'ns' ? '123456789' : '123456000';
        expect(tshark(p)).toEqual([`1\t1700000000.${frac1}\t\t60\t60\t`, '2\t1700000001.000005000\t\t1500\t20\t']);
      });
    }
  }

  for (const endianness of ['le', 'be'] as const) {
    it(`pcapng ${endianness}: two interfaces, tsresol 9 / 6 / 2^-20, comments`, () => {
      const w = new PcapngWriter({ endianness, application: 'spoofwatch test' });
      w.add({ ts: { sec: 1700000000, nsec: 123456789 }, bytes: payload(60), linkType: 1, comment: 'INVITE from 10.0.0.1' });
      w.add({ ts: { sec: 1700000000, nsec: 200000000 }, bytes: payload(28), linkType: 101, tsresol: 6 });
      w.add({ ts: { sec: 1700000002, nsec: 999999999 }, bytes: payload(40), linkType: 1, origLen: 400, comment: 'zwei, ünïcode' });
      w.add({ ts: { sec: 1700000003, nsec: 500000000 }, bytes: payload(42), linkType: 1, tsresol: 0x94 });
      const p = join(dir, `w-${endianness}.pcapng`);
      writeFileSync(p, w.toBuffer());
      const comments = ['INVITE from 10.0.0.1', undefined, 'zwei, ünïcode'];
      expect(tshark(p)).toEqual([
        '1\t1700000000.123456789\t0\t60\t60\tINVITE from 10.0.0.1',
        '2\t1700000000.200000000\t1\t28\t28\t',
        '3\t1700000002.999999999\t0\t400\t40\tzwei, ünïcode',
        '4\t1700000003.500000000\t2\t42\t42\t',
      ]);
      expect(ours(p, comments)).toEqual(tshark(p));
    });
  }
});

describe.skipIf(!haveTshark)('we read real captures as tshark does', () => {
  for (const name of ['sipp-udp.pcapng', 'sipp-tcp.pcapng']) {
    const p = join('test/captures', name);
    it(name, () => {
      const theirs = tshark(p);
      expect(theirs.length).toBeGreaterThan(10);
      expect(ours(p)).toEqual(theirs);
    });
  }
});
