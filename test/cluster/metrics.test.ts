/**
 * Issue #22: the scale-out metrics (src/cluster/metrics.ts) on a Registry, as the roles drive them; the exposition
 * passes `promtool check metrics` (Prometheus naming rules) and holds exactly what was recorded.
 */
import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createClusterMetrics } from '../../src/cluster/metrics.js';
import { hasBinary, metricValue } from '../daemon/helpers.js';

const HAVE_PROMTOOL = hasBinary('promtool');
if (!HAVE_PROMTOOL) console.warn('promtool missing: cluster metrics lint skipped (apt-get install -y --no-install-recommends prometheus); CI installs it');

function recorded(): Promise<string> {
  const registry = new Registry();
  const m = createClusterMetrics(registry);
  m.setConnected(true);
  m.observePublish('alert', 0.0008);
  m.observePublish('alert', 0.004);
  m.observePublish('fact', 0.0004);
  m.observePublish('fact', 3);
  m.setBuffer(120);
  m.setBuffer(7);
  m.dropped('fact');
  m.dropped('fact');
  m.dropped('alert');
  m.setLag(0, 42);
  m.setLag(3, 5);
  m.setLag(7, 1);
  m.releaseShard(7);
  return registry.metrics();
}

describe('cluster metrics', () => {
  it('hold exactly what the roles recorded', async () => {
    const text = await recorded();
    expect(metricValue(text, 'spoofwatch_cluster_connected')).toBe(1);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_count', { kind: 'alert' })).toBe(2);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_sum', { kind: 'alert' })).toBeCloseTo(0.0048, 10);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_bucket', { kind: 'alert', le: '0.001' })).toBe(1);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_bucket', { kind: 'alert', le: '0.005' })).toBe(2);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_bucket', { kind: 'fact', le: '0.0005' })).toBe(1);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_bucket', { kind: 'fact', le: '2.5' })).toBe(1);
    expect(metricValue(text, 'spoofwatch_cluster_publish_seconds_bucket', { kind: 'fact', le: '5' })).toBe(2);
    expect(metricValue(text, 'spoofwatch_cluster_buffer_messages')).toBe(7);
    expect(metricValue(text, 'spoofwatch_cluster_buffer_dropped_total', { kind: 'fact' })).toBe(2);
    expect(metricValue(text, 'spoofwatch_cluster_buffer_dropped_total', { kind: 'alert' })).toBe(1);
    expect(metricValue(text, 'spoofwatch_cluster_consumer_lag', { shard: '0' })).toBe(42);
    expect(metricValue(text, 'spoofwatch_cluster_consumer_lag', { shard: '3' })).toBe(5);
    // A released shard's series is gone, not frozen at its last value.
    expect(text).not.toMatch(/spoofwatch_cluster_consumer_lag\{shard="7"\}/);
  });

  it('start at zero: not connected, no drops, both kinds present', async () => {
    const registry = new Registry();
    createClusterMetrics(registry);
    const text = await registry.metrics();
    expect(metricValue(text, 'spoofwatch_cluster_connected')).toBe(0);
    expect(metricValue(text, 'spoofwatch_cluster_buffer_dropped_total', { kind: 'alert' })).toBe(0);
    expect(metricValue(text, 'spoofwatch_cluster_buffer_dropped_total', { kind: 'fact' })).toBe(0);
  });

  it.skipIf(!HAVE_PROMTOOL)('pass promtool check metrics', async () => {
    const text = await recorded();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('register beside each other on one Registry only once (a second set is a name clash, not a silent double)', () => {
    const registry = new Registry();
    createClusterMetrics(registry);
    expect(() => createClusterMetrics(registry)).toThrow(/already been registered/);
  });
});
