/**
 * SHAKEN-REPLAY through facts (issue #22): a PASSporT replayed on a second Call-ID, seen by a sensor that runs only the
 * per-call rules; the fact (replay key, Identity headers) through JSON to a windowed engine on the replay key's shard
 * raises the same alert as one node does. Real PASSporTs signed at test time by a throw-away PKI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { shardOf } from '../../src/cluster/contract.js';
import { callFactsOf, factOf, parseFact, perCallRules, ruleOnShard, shardsOfCall, windowedRules } from '../../src/cluster/facts.js';
import { ConfigPolicy } from '../../src/correlate/policy.js';
import { Analyzer, ruleSettingsOf } from '../../src/pipeline/analyzer.js';
import { RuleEngine } from '../../src/rules/engine.js';
import { memoryWindows } from '../../src/rules/window.js';
import { alertOf } from '../../src/alerts/from-finding.js';
import { ALL_RULES } from '../../src/rules/registry.js';
import { configOf, invite, sipNum, SipSession, SRC, T0, testConfigYaml } from '../rules/harness.js';
import { identityHeader, makePki, removeCacheFolders, signPassport, writeCacheFolder } from '../shaken/pki.js';

const X5U = 'https://cert.example.net/sp1234.pem';
const pki = makePki({ now: new Date(T0 * 1000) });
const cacheDir = writeCacheFolder({ index: { [X5U]: pki.chainPem } });
const anchorDir = mkdtempSync(join(tmpdir(), 'spoofwatch-anchors-'));
const anchorFile = join(anchorDir, 'anchors.pem');
writeFileSync(anchorFile, pki.root.cert.pem);
afterAll(() => {
  removeCacheFolders();
  rmSync(anchorDir, { recursive: true, force: true });
});
const CONFIG = testConfigYaml({ stirShaken: { trustAnchors: [anchorFile], certCacheDir: cacheDir } });

const CLI = '+31104567890';
const CALLEE = '+31687654321';
const IDENTITY = identityHeader(
  signPassport({ attest: 'A', orig: { tn: CLI.slice(1) }, dest: { tn: [CALLEE.slice(1)] }, iat: T0, origid: '123e4567-e89b-12d3-a456-426655440000' }, pki.leaf.privateKey, X5U),
  X5U,
);
const call = (callId: string) => invite({ from: sipNum(CLI), to: sipNum(CALLEE), callId, host: SRC.carrierNl.split(':')[0]!, headers: [`Identity: ${IDENTITY}`] });
const strip = (a: Pick<Alert, 'rule' | 'severity' | 'reasons' | 'evidence' | 'presented' | 'call'>) => ({ rule: a.rule, severity: a.severity, reasons: a.reasons, evidence: a.evidence, presented: a.presented, call: a.call });

describe('SHAKEN-REPLAY over facts', () => {
  it('the replay key shard raises the alert one node raises; the CLI shard does not see the rule', () => {
    const single = new SipSession(CONFIG);
    single.feed({ src: SRC.carrierNl, ts: T0 + 1, text: call('rp-1@x') });
    const expected = single.feed({ src: SRC.carrierNl, ts: T0 + 20, text: call('rp-2@x') }).filter((a) => a.rule === 'SHAKEN-REPLAY');
    expect(expected).toHaveLength(1);

    const config = configOf(CONFIG);
    const shards = 1024;
    const windowed = windowedRules(ALL_RULES);
    const engine = new RuleEngine(new ConfigPolicy(config), ruleSettingsOf(config), windowed, memoryWindows(100));
    const got: Alert[] = [];
    const shardsSeen: number[][] = [];
    const sensor = new SipSession(CONFIG);
    (sensor as { analyzer: Analyzer }).analyzer = new Analyzer(config, () => undefined, () => new Date('2025-03-01T12:00:00Z'), undefined, {
      rules: perCallRules(ALL_RULES),
      onInitialInvite: (facts) => {
        const data = new TextEncoder().encode(JSON.stringify(factOf(facts, 's1')));
        const list = shardsOfCall(facts, ['cli', 'shaken-replay'], shards);
        shardsSeen.push(list);
        for (const shard of list) {
          const c = callFactsOf(parseFact(data)!);
          got.push(
            ...engine
              .evaluate(c, { raised: new Set(windowed.filter((r) => !ruleOnShard(r, c, shard, shards)).map((r) => r.id)) })
              .map((f) => alertOf(f.rule, f.finding, c, new Date('2025-03-01T12:00:00Z'))),
          );
        }
      },
    });
    expect(sensor.feed({ src: SRC.carrierNl, ts: T0 + 1, text: call('rp-1@x') }).map((a) => a.rule)).not.toContain('SHAKEN-REPLAY');
    sensor.feed({ src: SRC.carrierNl, ts: T0 + 20, text: call('rp-2@x') });
    const replays = got.filter((a) => a.rule === 'SHAKEN-REPLAY');
    expect(replays.map(strip)).toEqual(expected.map(strip));
    // Each call's fact went to the CLI's shard and the replay key's shard (two shards of 1024 here).
    expect(shardsSeen[0]).toContain(shardOf(CLI, shards));
    expect(shardsSeen[0]).toHaveLength(2);
  });
});
