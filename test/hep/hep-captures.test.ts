/**
 * Issue #16 point 6: HEP v1/v2/v3 over UDP and over TCP inside captures (test/captures/crafted/hep/, made by
 * scripts/make-hep-captures.ts). The differential test compares the SIP messages per frame with tshark's reading of
 * each capture's twin; this one checks what tshark cannot see: the inner addresses, transport and capture time HEP
 * carries, the agent named in the origin, non-SIP HEP counted by payload type, and no anomaly.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles, runFiles } from '../../src/commands/analyze.js';
import { defaultConfig } from '../../src/config/index.js';
import { Ingest } from '../../src/pipeline/ingest.js';
import { readCapture } from '../../src/sources/capture/index.js';
import { PcapWriter } from '../../src/sources/capture/writer.js';
import { LinkType } from '../../src/types.js';
import { tempDir } from '../daemon/helpers.js';

const DIR = 'test/captures/crafted/hep';
interface Expected {
  readonly version: number;
  readonly feed: string;
  readonly sipMessages: number;
  readonly hepNotSip: Record<string, number>;
  readonly agent: { address: string; captureId?: number };
  readonly messages: { frame: number; callId: string; message: string; src: string; dst: string; transport: string; ts: string }[];
}
const EXPECTED: Record<string, Expected> = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const ep = (e: { ip: string; port: number }) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);
const iso = (t: { sec: number; nsec: number }) => `${new Date(t.sec * 1000).toISOString().slice(0, 19)}.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}Z`;

describe('HEP captures: v1, v2, v3 over UDP and TCP, IPv4 and IPv6', () => {
  it('covers every version over both feeds', () => {
    expect(Object.values(EXPECTED).map((e) => `v${e.version}/${e.feed}`).sort()).toEqual(['v1/tcp', 'v1/udp', 'v2/tcp', 'v2/udp', 'v3/tcp', 'v3/udp']);
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(file, async () => {
      const path = join(DIR, file);
      const got: Expected['messages'] = [];
      const agents = new Set<string>();
      const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} };
      await runFiles([path], (e) => {
        got.push({
          frame: e.meta.frame,
          callId: e.msg.callId ?? '',
          message: e.msg.kind === 'request' ? e.msg.method : String(e.msg.status),
          src: ep(e.meta.src),
          dst: ep(e.meta.dst),
          transport: e.meta.transport,
          ts: iso(e.meta.ts),
        });
        expect(e.meta.origin).toBe(path);
        agents.add(JSON.stringify(e.meta.agent));
      }, report);
      expect(got).toEqual(want.messages);
      expect(report.sipMessages).toBe(want.sipMessages);
      expect(report.anomalies).toEqual({});
      // The agent that reported the messages: the outer source; v2 and v3 add their capture id; the feed's transport.
      expect([...agents].map((a) => JSON.parse(a) as unknown)).toEqual([{ ...want.agent, feed: want.feed }]);

      // Non-SIP HEP (Kamailio hlog, payload type 100) is counted by payload type, not as an anomaly.
      const ingest = new Ingest({ origin: path, onMessage: () => undefined });
      await readCapture(path, (f) => ingest.pushFrame(f));
      ingest.flush();
      expect(ingest.stats.hepNotSip).toEqual(want.hepNotSip);
      expect(ingest.stats.anomalies).toEqual({});
      expect(ingest.hepAgentsAllRejected()).toEqual([]);
    });
  }

  it('analyze with a decode worker reads them as without one (the worker hands HEP and TCP over to the main thread)', async () => {
    const files = Object.keys(EXPECTED).map((f) => join(DIR, f));
    const config = defaultConfig();
    const one = await analyzeFiles(files, config);
    const two = await analyzeFiles(files, config, undefined, undefined, { threads: 2 });
    const stable = (r: typeof one) => JSON.stringify({ ...r, alerts: r.alerts.map(({ ts: _ts, ...a }) => a) });
    expect(one.sipMessages).toBe(42);
    expect(one.alerts.length).toBeGreaterThan(0);
    expect(one.alerts.every((a) => a.network.agent !== undefined)).toBe(true);
    expect(stable(two)).toBe(stable(one));
  });

  for (const file of Object.keys(EXPECTED).filter((f) => EXPECTED[f]!.feed === 'tcp')) {
    it(`${file} begun mid-connection (a tcpdump started on a running feed): HEP, not the SIP inside it`, async () => {
      // Frames 8 on: no handshake, the first segment in the middle of a packet's SIP message.
      const w = new PcapWriter({ linkType: LinkType.RAW });
      await readCapture(join(DIR, file), (f) => void (f.number >= 8 && w.add({ ts: f.ts, bytes: Buffer.from(f.bytes) })));
      const t = tempDir('spoofwatch-hep-mid-');
      try {
        const path = join(t.dir, file);
        writeFileSync(path, w.toBuffer());
        const got: unknown[] = [];
        const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} as Record<string, number> };
        await runFiles([path], (e) => void got.push([e.meta.frame, e.msg.kind === 'request' ? e.msg.method : String(e.msg.status), ep(e.meta.src), e.meta.transport, e.meta.agent?.address]), report);
        // The messages whose HEP packet starts after the cut (ACK, BYE, 200), in the frames that complete them, with
        // their inner addresses: the copies are never read as SIP sent by the agent.
        const want = EXPECTED[file]!.messages.slice(4).map((m) => [m.frame - 7, m.message, m.src, m.transport, EXPECTED[file]!.agent.address]);
        expect(got).toEqual(want);
        expect(Object.keys(report.anomalies)).toEqual(['hep.tcp-resync']);
      } finally {
        t.cleanup();
      }
    });
  }

  it('the generator is deterministic: a rerun writes the committed files byte for byte', () => {
    const t = tempDir('spoofwatch-hep-captures-');
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/make-hep-captures.ts', t.dir], { stdio: 'ignore' });
      for (const f of [...Object.keys(EXPECTED), ...Object.keys(EXPECTED).map((x) => `twin/${x}`), 'expected.json']) {
        expect(readFileSync(join(t.dir, f)).equals(readFileSync(join(DIR, f))), f).toBe(true);
      }
    } finally {
      t.cleanup();
    }
  });
});
