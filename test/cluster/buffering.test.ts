/**
 * Issue #22 acceptance "sensor buffering": while NATS is unreachable — at start, and mid-run — a sensor keeps
 * analysing, buffers alerts up to `cluster.buffer.maxAlerts` (drops past it, counted), says degraded on /healthz,
 * and delivers the buffer in order once the servers are back. Real 3-node cluster (harness), every node killed.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { perCallRules } from '../../src/cluster/facts.js';
import { ALERT_STREAM } from '../../src/cluster/contract.js';
import { analyzeFiles } from '../../src/commands/analyze.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import { ALL_RULES } from '../../src/rules/registry.js';
import { metricValue, quietDaemon, SCENARIO_PCAP, tempDir, waitFor } from '../daemon/helpers.js';
import { nodeConfig } from './cluster-config.js';
import { hasNatsServer, startNatsCluster, type NatsCluster } from './nats-harness.js';
import { frameCalls, writeCalls } from './split.js';

/** Alert ids in the alert stream, in stream order. */
async function streamIds(nc: NatsConnection): Promise<string[]> {
  const jsm = await nc.jetstreamManager();
  const n = (await jsm.streams.info(ALERT_STREAM)).state.messages;
  const out: string[] = [];
  for (let seq = 1; seq <= n; seq++) out.push((JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage(ALERT_STREAM, { seq })).data)) as Alert).id);
  return out;
}

async function healthz(d: DaemonHandle): Promise<{ status: number; body: { status: string; cluster: { connected: boolean; buffered: { alerts: number; facts: number }; dropped: { alerts: number } } } }> {
  const r = await fetch(d.urls.health);
  return { status: r.status, body: (await r.json()) as never };
}

/** The sensor's cluster metrics as /metrics shows them (src/cluster/metrics.ts). */
async function clusterMetrics(d: DaemonHandle) {
  const text = await (await fetch(d.urls.metrics)).text();
  return {
    connected: metricValue(text, 'spoofwatch_cluster_connected'),
    buffered: metricValue(text, 'spoofwatch_cluster_buffer_messages'),
    dropped: { alert: metricValue(text, 'spoofwatch_cluster_buffer_dropped_total', { kind: 'alert' }), fact: metricValue(text, 'spoofwatch_cluster_buffer_dropped_total', { kind: 'fact' }) },
    published: { alert: metricValue(text, 'spoofwatch_cluster_publish_seconds_count', { kind: 'alert' }), fact: metricValue(text, 'spoofwatch_cluster_publish_seconds_count', { kind: 'fact' }) },
  };
}

const restartAll = (c: NatsCluster) => Promise.all(c.nodes.map((n) => c.restart(n.name)));

describe.runIf(hasNatsServer())('sensor buffering while NATS is unreachable (real 3-node cluster)', () => {
  it('buffers at start and mid-run, drops past the bound (counted), /healthz degraded, then delivers in order', async () => {
    const calls = [...new Set(frameCalls(SCENARIO_PCAP).flat())];
    const t = tempDir('spoofwatch-buffer-');
    const halves = [new Set(calls.slice(0, 12)), new Set(calls.slice(12))];
    const files = halves.map((h, i) => {
      const f = join(t.dir, `half${i}.pcapng`);
      writeCalls(SCENARIO_PCAP, h, f);
      return f;
    });
    // What the sensor raises for each half, in order (the per-call rules only).
    const per = new Set(perCallRules(ALL_RULES).map((r) => r.id));
    const { loadConfig } = await import('../../src/config/index.js');
    const cfg = loadConfig(join(import.meta.dirname, '../../captures/scenario/spoofwatch.yaml'));
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    const raised = await Promise.all(files.map(async (f) => (await analyzeFiles([f], cfg.config)).alerts.filter((a) => per.has(a.rule)).map((a) => a.id)));
    const MAX = 8;
    expect(raised[0]!.length).toBeGreaterThan(MAX);
    expect(raised[1]!.length).toBeGreaterThan(MAX);

    const c = await startNatsCluster(3);
    let d: DaemonHandle | undefined;
    let nc: NatsConnection | undefined;
    try {
      for (const n of c.nodes) await c.kill(n.name);
      // At start: no server reachable. The sensor starts anyway and analyses.
      const config = nodeConfig(t.dir, 's1', c.servers, `role: [sensor]\nsensorId: s1\nbuffer: { maxAlerts: ${MAX}, maxFacts: 1000 }`);
      d = await quietDaemon(config);
      const watch = config.sources.watch!.dir;
      copyFileSync(files[0]!, join(watch, 'a.pcapng'));
      await d.pollWatch();
      await d.pollWatch();
      await waitFor(() => d!.analyzer.stats.initialInvites === 12, 10_000, 'the first half analysed');
      let h = await healthz(d);
      expect(h.status).toBe(503);
      expect(h.body.status).toBe('degraded');
      expect(h.body.cluster.connected).toBe(false);
      expect(h.body.cluster.buffered.alerts).toBe(MAX);
      expect(h.body.cluster.dropped.alerts).toBe(raised[0]!.length - MAX);
      expect(h.body.cluster.buffered.facts).toBeGreaterThan(0);
      expect(await clusterMetrics(d)).toEqual({
        connected: 0,
        buffered: MAX + h.body.cluster.buffered.facts,
        dropped: { alert: raised[0]!.length - MAX, fact: 0 },
        published: { alert: NaN, fact: NaN },
      });

      // (Not c.metaLeader(): after a restart of every node, 2.9.10 followers report a meta cluster_size of 2.)
      await restartAll(c);
      await d.cluster!.ready();
      await waitFor(async () => (await healthz(d!)).status === 200 && d!.cluster!.publisher.size === 0, 20_000, 'the buffer to be flushed');
      nc = await connect({ servers: c.servers });
      // Delivered in the order raised: the first MAX alerts of the half.
      expect(await streamIds(nc)).toEqual(raised[0]!.slice(0, MAX));

      // Mid-run: every server killed while connected.
      await nc.close();
      nc = undefined;
      for (const n of c.nodes) await c.kill(n.name);
      await waitFor(async () => (await healthz(d!)).status === 503, 10_000, '/healthz to say degraded');
      copyFileSync(files[1]!, join(watch, 'b.pcapng'));
      await d.pollWatch();
      await d.pollWatch();
      await waitFor(() => d!.analyzer.stats.initialInvites === 25, 10_000, 'the second half analysed');
      h = await healthz(d);
      expect(h.body.cluster.connected).toBe(false);
      expect(h.body.cluster.buffered.alerts).toBe(MAX);
      expect(h.body.cluster.dropped.alerts).toBe(raised[0]!.length - MAX + raised[1]!.length - MAX);
      const down = await clusterMetrics(d);
      expect(down.connected).toBe(0);
      expect(down.dropped.alert).toBe(raised[0]!.length - MAX + raised[1]!.length - MAX);
      expect(down.buffered).toBe(MAX + h.body.cluster.buffered.facts);

      await restartAll(c);
      await waitFor(async () => (await healthz(d!)).status === 200 && d!.cluster!.publisher.size === 0, 20_000, 'the buffer to be flushed again');
      nc = await connect({ servers: c.servers });
      // The second buffer, in order, after the first.
      expect(await streamIds(nc)).toEqual([...raised[0]!.slice(0, MAX), ...raised[1]!.slice(0, MAX)]);
      expect(d.cluster!.publisher.stats().duplicates).toEqual({ alert: 0, fact: 0 });
      // Back up: every acknowledged publish observed once, nothing left in the buffer.
      const up = await clusterMetrics(d);
      expect(up).toMatchObject({ connected: 1, buffered: 0, published: d.cluster!.publisher.stats().published });
      expect(up.published.alert).toBe(2 * MAX);
    } finally {
      await nc?.close();
      await d?.stop();
      await c.stop();
      t.cleanup();
    }
  }, 60_000);
});
