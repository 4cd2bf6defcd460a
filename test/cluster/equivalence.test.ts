/**
 * Issue #22 acceptance "equivalence": a 3-node JetStream cluster (R3), two sensors each fed a different half of the
 * scenario capture (split by Call-ID, one call in both halves), one correlator, one gateway — in-process daemons with
 * one role each. The gateway's alerts equal, by (Call-ID, rule, severity, presented, peer, reasons), `analyze` of the
 * whole capture on one node; the CLI-MULTI-PEER alert needs both halves; the shared call gives one alert per rule,
 * listing both sensors; seq is the alert stream's sequence.
 */
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { ALERT_STREAM, EVIDENCE_BUCKET, FACT_STREAM } from '../../src/cluster/contract.js';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import { metricValue, quietDaemon, SCENARIO_CONFIG, SCENARIO_PCAP, tempDir, waitFor } from '../daemon/helpers.js';
import { nodeConfig } from './cluster-config.js';
import { hasNatsServer, startNatsCluster } from './nats-harness.js';
import { frameCalls, writeCalls } from './split.js';

const key = (a: Alert): string =>
  JSON.stringify([a.call.callId, a.rule, a.severity, a.presented, a.network.peer ?? null, a.reasons]);

/** The shards of a daemon's `spoofwatch_cluster_consumer_lag` series (read from the metric: also after it stopped). */
async function lagSeries(d: DaemonHandle): Promise<string[]> {
  const lag = d.metrics.registry.getSingleMetric('spoofwatch_cluster_consumer_lag');
  return lag ? (await lag.get()).values.map((v) => String(v.labels['shard'])) : ['no lag metric'];
}

/** The scenario's calls in capture order. */
function scenarioCalls(): string[] {
  return [...new Set(frameCalls(SCENARIO_PCAP).flat())];
}

describe.runIf(hasNatsServer())('cluster equivalence (real 3-node nats-server cluster on loopback)', () => {
  it('two sensors with half the scenario each + correlator + gateway = analyze of the whole capture', async () => {
    const cfg = loadConfig(SCENARIO_CONFIG);
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    const expected = (await analyzeFiles([SCENARIO_PCAP], cfg.config)).alerts;
    // The scenario has the cross-call alert this test is about, and the shared call alerts.
    const multi = expected.filter((a) => a.rule === 'CLI-MULTI-PEER');
    expect(multi.map((a) => a.call.callId)).toEqual(['sc23-1@spoofwatch.test']);
    const shared = 'sc08-1@spoofwatch.test';
    expect(expected.filter((a) => a.call.callId === shared).map((a) => a.rule).sort()).toEqual(['CLI-NOT-AUTHORIZED', 'CLI-PROTECTED']);

    // Half A: sc01–sc12 (sc01 and sc02 present +31205550101 from pbx-acme); half B: sc13–sc25 (sc23 presents it from
    // an unknown source). sc08 is in both. CLI-MULTI-PEER on sc23 needs calls of both halves.
    const calls = scenarioCalls();
    expect(calls).toHaveLength(25);
    const halfA = new Set(calls.slice(0, 12));
    const halfB = new Set([...calls.slice(12), shared]);
    const t = tempDir('spoofwatch-cluster-');
    const c = await startNatsCluster(3);
    const daemons: DaemonHandle[] = [];
    try {
      const sensors: DaemonHandle[] = [];
      for (const [name, half] of [['s1', halfA], ['s2', halfB]] as const) {
        const d = await quietDaemon(nodeConfig(t.dir, name, c.servers, `role: [sensor]\nsensorId: ${name}\nstream: { replicas: 3 }`));
        daemons.push(d);
        sensors.push(d);
        expect(writeCalls(SCENARIO_PCAP, half, join(t.dir, `${name}.pcapng`))).toBeGreaterThan(0);
      }
      await Promise.all(sensors.map((d) => d.cluster!.ready()));
      // Both sensors read their half; every alert and fact acknowledged by the stream.
      for (const [i, d] of sensors.entries()) {
        copyFileSync(join(t.dir, `s${i + 1}.pcapng`), join(t.dir, `s${i + 1}`, 'watch', 'half.pcapng'));
        // A file is read once its size and mtime held for two polls.
        await d.pollWatch();
        await d.pollWatch();
      }
      await waitFor(() => sensors.every((d) => d.analyzer.stats.initialInvites > 0), 10_000, 'the sensors to read their halves');
      for (const d of sensors) await d.cluster!.publisher.drained();
      const s2Facts = sensors[1]!.cluster!.publisher.stats().published.fact;
      expect(s2Facts).toBeGreaterThan(0);

      // The correlator replays the facts from the stream start (in capture order) and raises the windowed alerts.
      const corr = await quietDaemon(nodeConfig(t.dir, 'corr', c.servers, 'role: [correlator]\nreorderMs: 300'));
      daemons.push(corr);
      const gw = await quietDaemon(nodeConfig(t.dir, 'gw', c.servers, 'role: [gateway]'));
      daemons.push(gw);
      await Promise.all([corr.cluster!.ready(), gw.cluster!.ready()]);

      const gatewayAlerts = (): Alert[] => gw.store.query({ limit: 1000 });
      await waitFor(() => gatewayAlerts().length >= expected.length && corr.cluster!.correlator!.stats().held === 0, 20_000, 'the gateway to project every alert');
      // Sightings of the shared call from both sensors merged into the stored alerts.
      await waitFor(() => gatewayAlerts().filter((a) => a.call.callId === shared).every((a) => a.network.sensors?.length === 2), 10_000, 'both sightings');

      const got = gatewayAlerts();
      expect(got.map(key).sort()).toEqual(expected.map(key).sort());
      const gotMulti = got.filter((a) => a.rule === 'CLI-MULTI-PEER');
      expect(gotMulti).toHaveLength(1);
      expect(gotMulti[0]!.network.sensor).toBe('s2');
      expect(gotMulti[0]!.reasons[0]).toContain('sc01-1@spoofwatch.test');
      // One alert per rule for the shared call, its peer the configured one, listing both sensors.
      const sharedAlerts = got.filter((a) => a.call.callId === shared);
      expect(sharedAlerts.map((a) => [a.rule, a.network.peer, a.network.sensors])).toEqual(
        expect.arrayContaining([
          ['CLI-NOT-AUTHORIZED', 'access-untrusted', ['s1', 's2']],
          ['CLI-PROTECTED', 'access-untrusted', ['s1', 's2']],
        ]),
      );
      expect(sharedAlerts).toHaveLength(2);
      // The per-call alerts came from the sensors (each half's own calls), the windowed one from the correlator.
      for (const a of got.filter((x) => x.call.callId !== shared && x.rule !== 'CLI-MULTI-PEER')) {
        expect(a.network.sensors).toEqual([halfA.has(a.call.callId) ? 's1' : 's2']);
      }

      // seq = the alert stream's sequence: the stream holds exactly these alerts (the shared call's repeats were
      // dropped by their message ids), numbered 1..n.
      const nc = await connect({ servers: c.servers });
      try {
        const jsm = await nc.jetstreamManager();
        const info = await jsm.streams.info(ALERT_STREAM);
        expect(info.state.messages).toBe(expected.length);
        expect(info.config.num_replicas).toBe(3);
        expect((await jsm.streams.info(FACT_STREAM)).config.num_replicas).toBe(3);
        // The evidence objects live as long as the alerts (the object store's ttl is in ns: given in ms they expired
        // after 2.6 s) and are all there.
        const objects = async () => jsm.streams.info(`OBJ_${EVIDENCE_BUCKET}`);
        expect((await objects()).config.max_age).toBe(info.config.max_age);
        // (Sensors upload a call's messages 2 s after its alert.)
        await waitFor(async () => (await objects()).state.messages > 0, 10_000, 'evidence objects');
        expect(got.map((a) => a.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: expected.length }, (_, i) => i + 1));
      } finally {
        await nc.close();
      }
      // The shared call's two alerts and its fact were published by both sensors: one of each pair was a duplicate.
      const dups = (kind: 'alert' | 'fact') => sensors.reduce((n, d) => n + d.cluster!.publisher.stats().duplicates[kind], 0);
      expect([dups('alert'), dups('fact')]).toEqual([2, 1]);
      // The HTTP API of the gateway serves the projection.
      const api = (await (await fetch(gw.urls.api + '?limit=1000')).json()) as { alerts: Alert[] };
      expect(api.alerts.map(key).sort()).toEqual(expected.map(key).sort());

      // Evidence: the sensor put the call's messages into the object store; the gateway serves them as pcapng.
      const pcapOf = (a: Alert) => fetch(`${gw.urls.api}/${a.id}/pcap`);
      const sc05 = got.find((a) => a.call.callId === 'sc05-1@spoofwatch.test')!;
      await waitFor(async () => (await pcapOf(sc05)).status === 200, 15_000, 'the evidence of sc05 on the gateway');
      const pcap = Buffer.from(await (await pcapOf(sc05)).arrayBuffer());
      expect(pcap.readUInt32LE(0)).toBe(0x0a0d0d0a); // pcapng section header block
      expect(pcap.includes('sc05-1@spoofwatch.test')).toBe(true);
      expect(pcap.includes('sc06-1@spoofwatch.test')).toBe(false);

      // The projection file lost: a gateway started on an empty store rebuilds it from the stream, same seqs.
      const before = gatewayAlerts().map((a) => [a.seq, a.id, a.network.sensors]);
      await gw.stop();
      daemons.splice(daemons.indexOf(gw), 1);
      for (const f of readdirSync(join(t.dir, 'gw'))) if (f.startsWith('store.db')) rmSync(join(t.dir, 'gw', f));
      const gw2 = await quietDaemon(nodeConfig(t.dir, 'gw', c.servers, 'role: [gateway]'));
      daemons.push(gw2);
      await gw2.cluster!.ready();
      await waitFor(() => gw2.store.count() === expected.length, 10_000, 'the rebuilt projection');
      expect(gw2.store.query({ limit: 1000 }).map((a) => [a.seq, a.id, a.network.sensors])).toEqual(before);

      // A replacing correlator replays the facts from the stream start and re-raises the windowed alert with the same
      // message id: the stream drops it, the gateway gets nothing new.
      await corr.stop();
      daemons.splice(daemons.indexOf(corr), 1);
      const corr2 = await quietDaemon(nodeConfig(t.dir, 'corr2', c.servers, 'role: [correlator]\nreorderMs: 300'));
      daemons.push(corr2);
      await corr2.cluster!.ready();
      await waitFor(() => corr2.cluster!.correlator!.stats().alerts === 1 && corr2.cluster!.publisher.size === 0, 15_000, 'the replay to re-raise CLI-MULTI-PEER');
      expect(corr2.cluster!.publisher.stats().duplicates.alert).toBe(1);
      expect(gw2.store.count()).toBe(expected.length);

      // Shard leases: a third correlator waits while corr2 holds every shard, and takes them all once corr2 stops.
      // (The replay above can finish before the last lease is taken: corr2 takes the shards one at a time.)
      await waitFor(() => corr2.cluster!.correlator!.stats().owned.length === 16, 15_000, 'corr2 to hold all 16 shards');
      expect(corr2.cluster!.correlator!.stats().owned).toHaveLength(16);
      const corr3 = await quietDaemon(nodeConfig(t.dir, 'corr3', c.servers, 'role: [correlator]\nreorderMs: 300'));
      daemons.push(corr3);
      await corr3.cluster!.ready();
      expect(corr3.cluster!.correlator!.stats().owned).toEqual([]);
      // The lag metric has a series per owned shard only: all 16 on corr2, none on the waiting corr3 …
      await waitFor(async () => (await lagSeries(corr2)).length === 16, 5000, "corr2's lag metrics");
      expect(await lagSeries(corr3)).toEqual([]);
      await corr2.stop();
      daemons.splice(daemons.indexOf(corr2), 1);
      // … and the leases given back take their series with them.
      expect(await lagSeries(corr2)).toEqual([]);
      await waitFor(() => corr3.cluster!.correlator!.stats().owned.length === 16, 15_000, 'corr3 to take the shards over');
      await waitFor(async () => (await lagSeries(corr3)).length === 16, 5000, "corr3's lag metrics");
      await waitFor(() => corr3.cluster!.correlator!.stats().alerts === 1 && corr3.cluster!.publisher.size === 0, 15_000, 'corr3 to replay');
      expect(gw2.store.count()).toBe(expected.length);
    } finally {
      for (const d of daemons.reverse()) await d.stop();
      await c.stop();
      t.cleanup();
    }
  }, 60_000);

  it('live: one daemon with the correlator and gateway roles running while a sensor reads the whole capture', async () => {
    const cfg = loadConfig(SCENARIO_CONFIG);
    if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
    const expected = (await analyzeFiles([SCENARIO_PCAP], cfg.config)).alerts;
    const t = tempDir('spoofwatch-cluster-live-');
    const c = await startNatsCluster(3);
    const daemons: DaemonHandle[] = [];
    try {
      // R1 streams: the section's replicas reach the stream config.
      // The gateway suppresses CLI-MULTI-PEER (raised by the correlator) and SRC-UNKNOWN-PEER (by the sensor):
      // suppression is the gateway's, whichever role raised the alert.
      const gateSection = parseConfig('suppress:\n  - rule: CLI-MULTI-PEER\n  - rule: SRC-UNKNOWN-PEER\n', 'gate.yaml');
      if (!gateSection.ok) throw new Error(gateSection.errors.join('\n'));
      const hubConfig = { ...nodeConfig(t.dir, 'hub', c.servers, 'role: [correlator, gateway]\nshards: 4\nreorderMs: 200\nstream: { replicas: 1 }'), suppress: gateSection.config.suppress };
      const hub = await quietDaemon(hubConfig);
      daemons.push(hub);
      await hub.cluster!.ready();
      const sensorConfig = nodeConfig(t.dir, 's1', c.servers, 'role: [sensor]\nsensorId: s1\nshards: 4\nstream: { replicas: 1 }');
      const s1 = await quietDaemon(sensorConfig);
      daemons.push(s1);
      await s1.cluster!.ready();
      copyFileSync(SCENARIO_PCAP, join(sensorConfig.sources.watch!.dir, 'all.pcapng'));
      await s1.pollWatch();
      await s1.pollWatch();
      await waitFor(() => hub.store.count() >= expected.length, 20_000, 'every alert on the gateway');
      const got = hub.store.query({ limit: 1000 });
      expect(got.map(key).sort()).toEqual(expected.map(key).sort());
      expect(got.every((a) => a.network.sensor === 's1' && a.network.sensors?.join() === 's1')).toBe(true);
      const suppressedRules = new Set(['CLI-MULTI-PEER', 'SRC-UNKNOWN-PEER']);
      expect(got.filter((a) => a.suppressed === true).map((a) => a.rule).sort()).toEqual(expected.filter((a) => suppressedRules.has(a.rule)).map((a) => a.rule).sort());
      expect(got.filter((a) => a.suppressed === true).length).toBe(5);
      expect(got.filter((a) => !suppressedRules.has(a.rule)).every((a) => a.suppressed === undefined)).toBe(true);
      expect(hub.cluster!.correlator!.stats()).toMatchObject({ shards: [0, 1, 2, 3], owned: [0, 1, 2, 3], alerts: 1, badFacts: 0, held: 0 });
      await waitFor(async () => JSON.stringify(await hub.cluster!.lag()) === JSON.stringify({ shards: { 0: 0, 1: 0, 2: 0, 3: 0 }, gateway: 0 }), 5000, 'no lag');
      expect(await s1.cluster!.lag()).toEqual({});
      // /metrics (src/cluster/metrics.ts wired in): one publish-latency observation per acknowledged alert and fact,
      // the connection up, nothing buffered or dropped, and each drained shard's lag 0 (reported every 2 s).
      const metricsOf = async (d: DaemonHandle) => (await fetch(d.urls.metrics)).text();
      const sent = s1.cluster!.publisher.stats();
      expect(sent.published.alert).toBe(expected.length - 1);
      expect(sent.published.fact).toBeGreaterThan(0);
      const sm = await metricsOf(s1);
      expect(metricValue(sm, 'spoofwatch_cluster_connected')).toBe(1);
      expect(metricValue(sm, 'spoofwatch_cluster_publish_seconds_count', { kind: 'alert' })).toBe(expected.length - 1);
      expect(metricValue(sm, 'spoofwatch_cluster_publish_seconds_count', { kind: 'fact' })).toBe(sent.published.fact);
      expect(metricValue(sm, 'spoofwatch_cluster_buffer_messages')).toBe(0);
      expect(metricValue(sm, 'spoofwatch_cluster_buffer_dropped_total')).toBe(0);
      expect(metricValue(sm, 'spoofwatch_cluster_consumer_lag')).toBeNaN();
      const shards = ['0', '1', '2', '3'];
      await waitFor(async () => {
        const text = await metricsOf(hub);
        return shards.every((shard) => metricValue(text, 'spoofwatch_cluster_consumer_lag', { shard }) === 0);
      }, 5000, 'lag 0 in the metrics of every shard');
      const hm = await metricsOf(hub);
      expect(metricValue(hm, 'spoofwatch_cluster_connected')).toBe(1);
      expect(hm.split('\n').filter((l) => l.startsWith('spoofwatch_cluster_consumer_lag{')).length).toBe(shards.length);
      // The correlator's one windowed alert is the hub's only publish.
      expect(metricValue(hm, 'spoofwatch_cluster_publish_seconds_count', { kind: 'alert' })).toBe(1);
      expect(metricValue(hm, 'spoofwatch_cluster_publish_seconds_count', { kind: 'fact' })).toBeNaN();
      const nc = await connect({ servers: c.servers });
      try {
        expect((await (await nc.jetstreamManager()).streams.info(ALERT_STREAM)).config.num_replicas).toBe(1);
      } finally {
        await nc.close();
      }
    } finally {
      for (const d of daemons.reverse()) await d.stop();
      await c.stop();
      t.cleanup();
    }
  }, 60_000);
});
