/**
 * Issue #2 scope 6: bad input never crashes and never loses what was read before the fault. Each case asserts
 * the one-line message (file and byte offset), the exit code and the partial results.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/sources/capture/writer.js';
import { LinkType } from '../../src/types.js';
import { ip, tcpPacket, udpPacket } from '../../scripts/lib/packets.js';

const dir = mkdtempSync(join(tmpdir(), 'sw-bad-'));
const SIPP = readFileSync('test/captures/sipp-udp.pcapng');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, bytes: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

interface JsonReport {
  files: { file: string; frames: number; sipMessages: number; error?: { code: string; offset: number } }[];
  frames: number;
  sipMessages: number;
  notSip: number;
  calls: number;
  anomalies: Record<string, number>;
}

function json(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

describe('bad capture files', () => {
  it('empty file: exit 2, one line naming file and offset 0', () => {
    const p = file('empty.pcap', '');
    const r = cli('analyze', '--format', 'json', p);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`spoofwatch: ${p}: empty file (0 bytes) at byte 0\n`);
    expect(json(r.stdout).files[0]).toMatchObject({ frames: 0, error: { code: 'CAPTURE_EMPTY', offset: 0 } });
  });

  it('not a capture: exit 2, names the magic', () => {
    const p = file('notes.txt', 'hello, this is not a capture\n');
    const r = cli('analyze', p);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`spoofwatch: ${p}: not a pcap or pcapng capture (magic 0x68656c6c) at byte 0\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('missing file: exit 2, one line', () => {
    const p = join(dir, 'does-not-exist.pcap');
    const r = cli('analyze', p);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`spoofwatch: ${p}: cannot read (ENOENT) at byte 0\n`);
  });

  it('truncated file: exit 2, every frame before the cut analysed and reported', () => {
    const p = file('truncated.pcapng', SIPP.subarray(0, 10_000));
    const r = cli('analyze', '--format', 'json', p);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`spoofwatch: ${p}: truncated pcapng block: needs 416 bytes, file ends after 268 at byte 9732\n`);
    const rep = json(r.stdout);
    expect(rep.files[0]).toMatchObject({ frames: 19, sipMessages: 19, error: { code: 'CAPTURE_TRUNCATED', offset: 9732 } });
    expect(rep.calls).toBe(4);
    // messages prints the 19 messages read before the cut, then fails with 2
    const m = cli('messages', p);
    expect(m.code).toBe(2);
    expect(m.stdout.trim().split('\n')).toHaveLength(19);
    expect(JSON.parse(m.stdout.trim().split('\n')[18]!).frame).toBe(19);
  });

  it('corrupt block length: exit 2, frames before the corrupt block kept', () => {
    const bytes = Buffer.from(SIPP);
    // Walk the pcapng blocks to the 11th EPB and break its length (not a multiple of 4).
    let off = 0;
    let epb = 0;
    let target = -1;
    while (off + 8 <= bytes.length) {
      const type = bytes.readUInt32LE(off);
      const len = bytes.readUInt32LE(off + 4);
      if (type === 6 && ++epb === 11) {
        target = off;
        break;
      }
      off += len;
    }
    expect(target).toBeGreaterThan(0);
    bytes.writeUInt32LE(1_000_001, target + 4);
    const p = file('corrupt.pcapng', bytes);
    const r = cli('analyze', '--format', 'json', p);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^spoofwatch: ${p}: .* at byte ${target}\\n$`));
    const rep = json(r.stdout);
    expect(rep.files[0]).toMatchObject({ frames: 10, sipMessages: 10, error: { code: 'CAPTURE_CORRUPT', offset: target } });
  });

  it('several files: a bad one does not stop the good ones; exit 2', () => {
    const bad = file('bad2.pcap', 'garbage');
    const r = cli('analyze', '--format', 'json', bad, 'test/captures/sipp-tcp.pcapng');
    expect(r.code).toBe(2);
    const rep = json(r.stdout);
    expect(rep.files.map((f) => [f.frames, f.sipMessages, f.error?.code])).toEqual([
      [0, 0, 'CAPTURE_NOT_A_CAPTURE'],
      [105, 60, undefined],
    ]);
  });
});

describe('garbage inside UDP and TCP payloads', () => {
  const INVITE = Buffer.from(
    [
      'INVITE sip:+31301234500@192.0.2.2 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKgarbage1',
      'From: <sip:+31301112233@192.0.2.1>;tag=a1',
      'To: <sip:+31301234500@192.0.2.2>',
      'Call-ID: garbage-test-1@192.0.2.1',
      'CSeq: 1 INVITE',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

  it('are counted and skipped; the real SIP around them is analysed; exit 0', () => {
    const w = new PcapWriter({ linkType: LinkType.RAW });
    let t = 1_700_000_000;
    const add = (b: Buffer) => w.add({ ts: { sec: t++, nsec: 0 }, bytes: b });
    // UDP: random bytes to 5060, a SIP-looking start line with garbage headers, a truncated IP packet, then SIP.
    add(udpPacket('192.0.2.1', 5060, '192.0.2.2', 5060, Buffer.from('\x00\xff\x13garbage\x00\x01\x02'.repeat(20), 'latin1')));
    add(udpPacket('192.0.2.1', 5060, '192.0.2.2', 5060, Buffer.from('SIP/2.0 abc Nonsense\r\n\r\n')));
    add(ip('192.0.2.1', '192.0.2.2', 17, Buffer.from([0x13, 0xc4])).subarray(0, 21));
    add(udpPacket('192.0.2.1', 5060, '192.0.2.2', 5060, INVITE));
    // TCP: garbage at the start of a stream, then a SIP message: the framer resynchronises at the start line.
    const junk = Buffer.from('\x16\x03\x01 not sip at all \x00\x00\r\n\r\n', 'latin1');
    add(tcpPacket('192.0.2.1', 40000, '192.0.2.2', 5060, { seq: 1000, flags: 0x02 }));
    add(tcpPacket('192.0.2.1', 40000, '192.0.2.2', 5060, { seq: 1001, flags: 0x18, payload: junk }));
    add(tcpPacket('192.0.2.1', 40000, '192.0.2.2', 5060, { seq: 1001 + junk.length, flags: 0x18, payload: Buffer.from(INVITE.toString().replace('garbage-test-1', 'garbage-test-2').replace('UDP', 'TCP')) }));
    const p = file('garbage.pcap', w.toBuffer());
    const r = cli('analyze', '--format', 'json', p);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = json(r.stdout);
    expect(rep.frames).toBe(7);
    expect(rep.sipMessages).toBe(2);
    expect(rep.calls).toBe(2);
    // the two garbage datagrams are skipped as not SIP; the cut IP packet and the TCP junk are named anomalies
    expect(rep.notSip).toBe(2);
    expect(rep.anomalies).toEqual({ 'ipv4.payload-truncated': 1, 'tcp.stream-resync': 1 });
  });
});
