/**
 * Issue #16 point 4 and 5 from the command line (spawns dist/cli.js: `npm run build` first): a capture without SIP
 * says why, one of PPPoE frames lists its SIP messages, a NetMon 2.x file (plain and gzip on stdin) is analysed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

function cli(args: string[], input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', ...(input ? { input } : {}), timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The report after the Incidents section that leads it when there are alerts (issue #19). */
function afterIncidents(stdout: string): string {
  return stdout.startsWith('Incidents (') ? stdout.slice(stdout.indexOf('\n\n') + 2) : stdout;
}

interface Expected {
  messages: { callId: string; message: string; from: string }[];
}
const EXPECTED = JSON.parse(readFileSync('test/captures/crafted/expected.json', 'utf8')) as Record<string, Expected>;

describe('analyze says why a capture has no SIP', () => {
  it('12 LLDP frames: "no SIP: 12 frames of ethertype 0x88cc not decoded", exit 0', () => {
    const r = cli(['analyze', 'test/captures/crafted/lldp.pcap']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines).toContain('no SIP: 12 frames of ethertype 0x88cc not decoded');
    expect(lines).toContain('not decoded: ethertype 0x88cc 12');
    expect(lines[0]).toBe('test/captures/crafted/lldp.pcap: pcap, 936 bytes, 12 frames, 0 SIP messages');
  });

  it('the JSON report carries the same: notDecoded by reason and the noSip sentence (also with --threads 2)', () => {
    for (const threads of ['1', '2']) {
      const r = cli(['analyze', '--format', 'json', '--threads', threads, 'test/captures/crafted/lldp.pcap']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as { notDecoded: Record<string, number>; noSip?: string; sipMessages: number; frames: number };
      expect(j).toMatchObject({ frames: 12, sipMessages: 0, notDecoded: { 'ethertype 0x88cc': 12 }, noSip: 'no SIP: 12 frames of ethertype 0x88cc not decoded' });
      expect(Object.keys(j.notDecoded)).toEqual(['ethertype 0x88cc']);
    }
  });

  it('a capture with SIP has no noSip sentence; its undecoded frames are still listed (NetMon 802.11 frame)', () => {
    const r = cli(['analyze', 'test/captures/crafted/netmon2.cap']);
    expect(r.code).toBe(0);
    expect(afterIncidents(r.stdout).split('\n')[0]).toBe('test/captures/crafted/netmon2.cap: netmon, 6583 bytes, 13 frames, 12 SIP messages');
    expect(r.stdout).toContain('\nnot decoded: netmon media type 6 1\n');
    expect(r.stdout).not.toContain('no SIP');
  });
});

describe('PPPoE access lines and NetMon files are analysed', () => {
  it('analyze on a capture of only PPPoE frames lists its SIP messages', () => {
    const r = cli(['analyze', 'test/captures/crafted/pppoe.pcap']);
    expect(r.code).toBe(0);
    const lines = afterIncidents(r.stdout).split('\n');
    expect(lines[0]).toBe('test/captures/crafted/pppoe.pcap: pcap, 6238 bytes, 12 frames, 12 SIP messages');
    expect(lines).toContain('requests:  ACK 2, INVITE 2, BYE 1');
    expect(lines).toContain('responses: 200 3, 100 2, 180 2');
    expect(r.stdout).not.toContain('not decoded');
  });

  it('messages on the PPPoE capture: one line per SIP message, as expected.json lists them', () => {
    const r = cli(['messages', 'test/captures/crafted/pppoe.pcap']);
    expect(r.code).toBe(0);
    const got = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { frame: number; callId: string; method?: string; status?: number; from: { user?: string } | null });
    expect(got.map((m) => ({ callId: m.callId, message: m.method ?? String(m.status), from: m.from?.user }))).toEqual(
      EXPECTED['pppoe.pcap']!.messages.map((m) => ({ callId: m.callId, message: m.message, from: m.from })),
    );
    expect(got.map((m) => m.frame)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('a gzip-compressed NetMon file on stdin gives the same report as the file', () => {
    const file = cli(['analyze', '--format', 'json', 'test/captures/crafted/netmon2.cap']);
    const stdin = cli(['analyze', '--format', 'json', '-'], gzipSync(readFileSync('test/captures/crafted/netmon2.cap')));
    expect(stdin.code).toBe(0);
    const a = JSON.parse(file.stdout) as { files: { format: string }[]; sipMessages: number; alerts: { ts: string }[] };
    const b = JSON.parse(stdin.stdout) as typeof a;
    expect(b.files[0]?.format).toBe('netmon');
    expect(b.sipMessages).toBe(12);
    const strip = (x: typeof a) => ({ ...x, files: [], alerts: x.alerts.map(({ ts: _ts, ...rest }) => ({ ...rest, network: undefined, id: undefined })) });
    expect(strip(b)).toEqual(strip(a));
  });
});
