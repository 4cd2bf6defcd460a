/**
 * The scale-out's split of the rules, without NATS (issue #22): per-call rules on the sensor's Analyzer plus the
 * windowed rules run over facts that went through JSON (what a correlator reads from the stream) give exactly the
 * alerts of `analyze`; the correlator's reorder buffer releases by capture time; the `cluster` config section.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { ReorderBuffer } from '../../src/cluster/correlator.js';
import { shardOf } from '../../src/cluster/contract.js';
import { callFactsOf, factOf, parseFact, perCallRules, ruleOnShard, shardsOfCall, windowedRules, type Fact } from '../../src/cluster/facts.js';
import { durationMs, longestWindowMs, streamPlan } from '../../src/cluster/nats.js';
import { analyzeFiles, runFiles } from '../../src/commands/analyze.js';
import { loadConfig, parseConfig, type Config } from '../../src/config/index.js';
import { ConfigPolicy } from '../../src/correlate/policy.js';
import { Analyzer, ruleSettingsOf } from '../../src/pipeline/analyzer.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { memoryWindows } from '../../src/rules/window.js';
import { alertOf } from '../../src/alerts/from-finding.js';
import { ALL_RULES } from '../../src/rules/registry.js';
import { PeerTable } from '../../src/identity/peers.js';
import { SCENARIO_CONFIG, SCENARIO_PCAP } from '../daemon/helpers.js';
import { clusterSection } from './cluster-config.js';

const key = (a: Alert): string => JSON.stringify([a.call.callId, a.rule, a.severity, a.presented, a.network, a.reasons, a.evidence, a.call]);

function scenarioConfig(): Config {
  const r = loadConfig(SCENARIO_CONFIG);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

describe('windowed rules over facts (the correlator half, in one process)', () => {
  const PACKS = join(import.meta.dirname, '../../captures/packs');
  it.each([
    ['the scenario', SCENARIO_PCAP, SCENARIO_CONFIG],
    ['the DE pack capture', join(PACKS, 'packs.pcapng'), join(PACKS, 'de.yaml')],
    ['the US pack capture', join(PACKS, 'packs.pcapng'), join(PACKS, 'us.yaml')],
  ])('sensor rules + windowed rules over JSON facts, sharded 16 ways = analyze of %s, alert for alert', async (_name, pcap, configFile) => {
    const r = loadConfig(configFile);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const config = r.config;
    const expected = (await analyzeFiles([pcap], config)).alerts;
    const shards = 16;
    const windowed = windowedRules(ALL_RULES);
    expect(windowed.map((r) => r.id)).toEqual(['CLI-MULTI-PEER', 'CLI-NEIGHBOUR', 'CLI-VELOCITY', 'SHAKEN-REPLAY']);
    const kinds = [...new Set(windowed.map((r) => r.windowKey!))];
    const got: Alert[] = [];
    // One "correlator" per shard, each with its own window state, as if on separate machines.
    const engines = Array.from({ length: shards }, () => new RuleEngine(new ConfigPolicy(config), ruleSettingsOf(config), windowed, memoryWindows(1000)));
    const wire: { shard: number; data: Uint8Array }[] = [];
    const analyzer = new Analyzer(config, (a) => got.push(a), undefined, undefined, {
      rules: perCallRules(ALL_RULES),
      onInitialInvite: (facts) => {
        const data = new TextEncoder().encode(JSON.stringify(factOf(facts, 's1')));
        for (const shard of shardsOfCall(facts, kinds, shards)) wire.push({ shard, data });
      },
    });
    await runFiles([pcap], (e) => {
      analyzer.handle(e);
      for (const { shard, data } of wire.splice(0)) {
        const call = callFactsOf(parseFact(data)!);
        const seen = { raised: new Set(windowed.filter((r) => !ruleOnShard(r, call, shard, shards)).map((r) => r.id)) };
        got.push(...engines[shard]!.evaluate(call, seen).map((f) => alertOf(f.rule, f.finding, call, new Date())));
      }
    }, { anomalies: {}, files: [], frames: 0, sipMessages: 0, notSip: 0, notDecoded: {} } as never);
    expect(got.filter((a) => a.rule === 'CLI-MULTI-PEER')).toHaveLength(1);
    expect(got.map(key).sort()).toEqual(expected.map(key).sort());
  });

  it('a fact names its shards by window key: the CLI, and the PASSporT replay key when there is one', () => {
    const cli = '+31205550101';
    const call = callFactsOf({
      v: 1, sensorId: 's', callId: 'c', method: 'INVITE', ts: { sec: 1, nsec: 0 }, frame: 1, src: { ip: '127.0.0.1', port: 5060 }, dst: { ip: '127.0.0.1', port: 5060 },
      transport: 'udp', origin: 'x', from: { header: 'From', raw: `<sip:${cli}@x>`, uri: `sip:${cli}@x`, num: { kind: 'e164', e164: cli, valid: true, category: 'geographic' }, params: {} },
      pai: [], diversion: [], identityHeaders: [], concurrentSameCli: 1,
      shaken: { status: 'passed', attest: 'A', origTn: cli, destTn: [], x5u: 'u', replayKey: 'rk' },
    } as Fact);
    expect(shardsOfCall(call, ['cli', 'shaken-replay'], 1024)).toEqual([shardOf(cli, 1024), shardOf('rk', 1024)].sort((a, b) => a - b));
    expect(shardsOfCall(call, ['cli', 'shaken-replay'], 1)).toEqual([0]);
  });

  it('parseFact refuses what is not a fact (counted by the correlator, never thrown)', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const bad of ['', 'null', '[]', '{"v":2}', '{"v":1,"callId":"c"}', 'not json', '{"v":1,"callId":1,"sensorId":"s","ts":{"sec":1,"nsec":0}}']) {
      expect(parseFact(enc(bad))).toBeUndefined();
    }
  });
});

describe('ReorderBuffer', () => {
  const item = (sec: number, arrivedMs: number) => ({ fact: { ts: { sec, nsec: 0 }, callId: `c${sec}` } as Fact, arrivedMs });

  it('holds each fact holdMs and releases in capture-time order, also when they arrive out of order', () => {
    const b = new ReorderBuffer<ReturnType<typeof item>>(500, 100);
    b.add(item(3, 0));
    b.add(item(1, 100));
    b.add(item(2, 200));
    expect(b.release(499)).toEqual([]);
    // c1 (arrived at 100) is the head: nothing is released before it is due, then everything due in order.
    expect(b.release(500)).toEqual([]);
    expect(b.release(600).map((i) => i.fact.callId)).toEqual(['c1']);
    expect(b.release(700).map((i) => i.fact.callId)).toEqual(['c2', 'c3']);
    expect(b.size).toBe(0);
  });

  it('releases the head early past maxHeld', () => {
    const b = new ReorderBuffer<ReturnType<typeof item>>(10_000, 2);
    for (const s of [5, 4, 3]) b.add(item(s, 0));
    expect(b.release(1).map((i) => i.fact.callId)).toEqual(['c3']);
    expect(b.size).toBe(2);
  });
});

describe('cluster config section', () => {
  it('defaults: all roles, 16 shards, R3, 30 d alerts; facts kept for the longest enabled window', () => {
    const c = clusterSection('nats: { servers: [nats://127.0.0.1:4222] }\nsensorId: sbc-1');
    expect(c.role).toEqual(['sensor', 'correlator', 'gateway']);
    expect([c.shards, c.stream.replicas, c.stream.maxAge, c.reorderMs, c.buffer.maxAlerts]).toEqual([16, 3, '30d', 500, 20_000]);
    const config = { ...scenarioConfig(), cluster: c };
    // CLI-NEIGHBOUR's 1 h is the longest default window.
    expect(longestWindowMs(config)).toBe(3_600_000);
    expect(streamPlan(config, c)).toEqual({ replicas: 3, alertMaxAgeMs: 30 * 86_400_000, factMaxAgeMs: 3_600_000, duplicateWindowMs: 3_600_000 + 600_000 });
    expect(durationMs('500ms') + durationMs('1.5s') + durationMs('2m')).toBe(500 + 1500 + 120_000);
  });

  it('is strict and checks what it can', () => {
    const errors = (yaml: string): string[] => {
      const r = parseConfig(yaml, 'c.yaml');
      return r.ok ? [] : r.errors;
    };
    expect(errors('cluster:\n  nats: { servers: [a] }\n  role: [sensor]\n')).toEqual(['cluster.sensorId: required with the sensor role']);
    expect(errors('cluster:\n  nats: { servers: [a] }\n  role: [gateway]\n  bogus: 1\n')).toEqual(['cluster.bogus: unknown key']);
    expect(errors('cluster:\n  nats: { servers: [a] }\n  role: [gateway]\n  stream: { maxAge: 30 days }\n')).toEqual([
      'cluster.stream.maxAge: expected a duration like 500ms, 90s, 10m, 1h or 30d',
    ]);
    expect(errors('cluster:\n  nats: { servers: [a] }\n  role: [correlator]\n  shards: 4\n  ownShards: [0, 4]\n')).toEqual(['cluster.ownShards[1]: shard 4 does not exist (shards: 4)']);
    expect(errors('cluster:\n  nats: { servers: [a] }\n  sensorId: "a.b"\n')).toEqual(['cluster.sensorId: letters, digits, - and _ only (1-64)']);
    // Without the section nothing is added.
    const plain = parseConfig('', 'c.yaml');
    expect(plain.ok && plain.config.cluster).toBe(undefined);
  });
});

describe('peers by sensor (match.sensorId)', () => {
  it('one address seen by two sensors: each sensor matches the peer configured for it, not the first copy', () => {
    const r = parseConfig(
      [
        'peers:',
        '  - { name: sbc-ams, match: { cidrs: [192.0.2.1], sensorId: ams-1 }, trust: trusted, class: national, any: true }',
        '  - { name: sbc-rtm, match: { cidrs: [192.0.2.1], sensorId: rtm-1 }, trust: untrusted, class: access }',
      ].join('\n'),
      'p.yaml',
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const t = new PeerTable(r.config.peers);
    const name = (sensorId?: string) => {
      const l = t.lookup({ ip: '192.0.2.1', port: 5060, transport: 'udp', sensorId });
      return l.kind === 'peer' ? l.peer.name : l.kind;
    };
    expect([name('ams-1'), name('rtm-1'), name('other')]).toEqual(['sbc-ams', 'sbc-rtm', 'mismatch']);
    // Outside cluster mode (no sensor id) the constraint does not apply: config order.
    expect(name(undefined)).toBe('sbc-ams');
    const bad = parseConfig('peers:\n  - { name: a, match: { cidrs: [192.0.2.1], sensorId: "a b" }, trust: trusted, class: access }', 'p.yaml');
    expect(bad.ok ? [] : bad.errors).toEqual(['peers[0].match.sensorId: letters, digits, - and _ only (1-64)']);
  });
});
