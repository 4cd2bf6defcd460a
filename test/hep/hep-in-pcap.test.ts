/** Issue #4: HEP is recognised inside capture files on any port — a capture of a HEP feed analyses like the original. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles, runFiles } from '../../src/commands/analyze.js';
import { hepPacketOf } from '../../src/commands/hep-send.js';
import { loadConfig } from '../../src/config/index.js';
import { PcapWriter } from '../../src/sources/capture/writer.js';
import { LinkType } from '../../src/types.js';
import { udpPacket } from '../../scripts/lib/packets.js';

const CAPTURE = 'captures/scenario/scenario.pcapng';

describe('HEP v3 inside a pcap', () => {
  it('is unwrapped on an arbitrary port: same alerts, same inner addresses, as the original capture', async () => {
    const cfg = loadConfig('captures/scenario/spoofwatch.yaml');
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    // A capture taken at a HEP collector: agent 198.51.100.7 → collector 192.0.2.9:47000, one HEP packet per message.
    const w = new PcapWriter({ linkType: LinkType.RAW, resolution: 'ns' });
    const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} };
    await runFiles([CAPTURE], (e) => {
      w.add({ ts: e.meta.ts, bytes: udpPacket('198.51.100.7', 33000, '192.0.2.9', 47000, hepPacketOf(e, 7)) });
    }, report);
    const file = join(mkdtempSync(join(tmpdir(), 'sw-hep-pcap-')), 'hep-feed.pcap');
    writeFileSync(file, w.toBuffer());

    const original = await analyzeFiles([CAPTURE], cfg.config);
    const viaHep = await analyzeFiles([file], cfg.config);
    expect(viaHep.sipMessages).toBe(150);
    expect(viaHep.notSip).toBe(0);
    const view = (r: typeof original) => r.alerts.map((a) => [a.call.callId, a.rule, a.severity, a.network.src, a.network.dst, a.network.peer]);
    expect(view(viaHep)).toEqual(view(original));
    expect(viaHep.alerts.length).toBe(29);
    // With a decode worker the HEP packets go over as datagrams and are unwrapped here: the same report.
    const threaded = await analyzeFiles([file], cfg.config, undefined, undefined, { threads: 2 });
    const stable = (r: typeof original) => JSON.stringify({ ...r, alerts: r.alerts.map(({ ts: _ts, ...a }) => a) });
    expect(stable(threaded)).toBe(stable(viaHep));
  });
});
