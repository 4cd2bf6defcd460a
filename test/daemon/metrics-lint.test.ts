/**
 * Issue #18: the daemon's /metrics passes `promtool check metrics` (Prometheus naming and exposition rules: no
 * `_total` on gauges, no doubled prefixes), and shows every bound's limit, use and evictions.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasBinary, invite, labConfig, metricValue, quietDaemon, sendUdp, tempDir, waitFor } from './helpers.js';

const HAVE_PROMTOOL = hasBinary('promtool');
if (!HAVE_PROMTOOL) console.warn('promtool missing: /metrics lint skipped (apt-get install -y --no-install-recommends prometheus); CI installs it');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('/metrics', () => {
  it.skipIf(!HAVE_PROMTOOL)('passes promtool check metrics after traffic and alerts', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const lab = labConfig({ store: join(tmp.dir, 'store.db') });
    // A number cache of 1 entry: the second calling number evicts the first (limits.numberCache, issue #18).
    const d = await quietDaemon({ ...lab, limits: { ...lab.limits, numberCache: 1 } });
    cleanups.push(() => d.stop());
    await sendUdp(d.ports.sipUdp!, [invite('lint-1@test'), invite('lint-2@test', { from: '112' })], '127.0.0.1');
    await waitFor(() => d.analyzer.stats.messages >= 2, 10_000, 'messages analysed');
    const text = await (await fetch(d.urls.metrics)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(text).not.toMatch(/^spoofwatch_process_process_/m);
    expect(metricValue(text, 'spoofwatch_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(metricValue(text, 'spoofwatch_analyzer_messages_total')).toBe(2);
    // Every bound with its limit, use and evictions (issue #18).
    const bounds = [...text.matchAll(/^spoofwatch_limit\{bound="([^"]+)"\}/gm)].map((m) => m[1]);
    expect(bounds).toEqual([
      'calls',
      'evidenceBytes',
      'evidencePinnedBytes',
      'alertSpill',
      'windowKeys',
      'peerCache',
      'numberCache',
      'sinkQueue',
      'wsClients',
      'wsBufferBytes',
      'httpConnections',
    ]);
    expect(metricValue(text, 'spoofwatch_limit', { bound: 'calls' })).toBe(100_000);
    expect(metricValue(text, 'spoofwatch_limit_used', { bound: 'calls' })).toBe(2);
    expect(metricValue(text, 'spoofwatch_limit_evictions_total', { bound: 'calls' })).toBe(0);
    const numberCache = ['spoofwatch_limit', 'spoofwatch_limit_used', 'spoofwatch_limit_evictions_total'].map((n) => metricValue(text, n, { bound: 'numberCache' }));
    expect(numberCache).toEqual([1, 1, 1]);
  });
});
