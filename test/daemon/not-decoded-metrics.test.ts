/**
 * Issue #16 point 4: frames the decoder cannot use are visible in /metrics by reason, as
 * spoofwatch_frames_not_decoded_total{source, reason} (a bounded label set), for captures read by the daemon.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labConfig, metricValue, quietDaemon, tempDir, waitFor } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('/metrics counts undecoded frames per reason', () => {
  it('an LLDP-only capture and a NetMon file with one 802.11 frame dropped into the watched folder', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const inDir = join(tmp.dir, 'in');
    mkdirSync(inDir);
    const d = await quietDaemon(labConfig({ store: join(tmp.dir, 'store.db'), watch: inDir }));
    cleanups.push(() => d.stop());
    copyFileSync('test/captures/crafted/lldp.pcap', join(inDir, 'lldp.pcap'));
    copyFileSync('test/captures/crafted/netmon2.cap', join(inDir, 'netmon2.cap'));
    await waitFor(() => (d.sources().find((s) => s.name === 'watch')?.counters.frames ?? 0) >= 25, 15_000, 'both files read');
    const m = await (await fetch(d.urls.metrics)).text();
    expect(metricValue(m, 'spoofwatch_frames_not_decoded_total', { source: 'watch', reason: 'ethertype 0x88cc' })).toBe(12);
    expect(metricValue(m, 'spoofwatch_frames_not_decoded_total', { source: 'watch', reason: 'netmon media type 6' })).toBe(1);
    expect(metricValue(m, 'spoofwatch_frames_not_decoded_total', { source: 'watch' })).toBe(13);
    expect(metricValue(m, 'spoofwatch_frames_not_decoded_total', { source: 'sip-udp' })).toBeNaN();
    expect(metricValue(m, 'spoofwatch_source_sip_messages_total', { source: 'watch' })).toBe(12);
  });
});
