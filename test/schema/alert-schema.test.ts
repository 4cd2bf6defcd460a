/**
 * Issue #20: docs/alert.schema.json describes alert v1 (DESIGN.md §5, src/alerts/alert.ts) and the WebSocket /alerts
 * messages (src/sinks/websocket.ts). Every alert of the scenario golden run and of a fresh analyze validates, as do
 * the messages a real daemon sends; the validator (test/schema/json-schema.ts) rejects bad alerts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { loadConfig } from '../../src/config/index.js';
import { invite, labConfig, quietDaemon, sendUdp, tempDir, waitFor, WsClient } from '../daemon/helpers.js';
import { validate, type Schema } from './json-schema.js';

const schema = JSON.parse(readFileSync('docs/alert.schema.json', 'utf8')) as Exclude<Schema, boolean> & { $defs: Record<string, Schema> };
const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}`, $defs: schema.$defs });
const golden = readFileSync('test/golden/scenario.alerts.ndjson', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Omit<Alert, 'ts'>);

/** The golden file leaves out the wall-clock `ts`: the same schema with `ts` not required. */
function withoutTs(): Schema {
  const copy = JSON.parse(JSON.stringify(schema)) as { $defs: { alert: { required: string[] } } };
  copy.$defs.alert.required = copy.$defs.alert.required.filter((k) => k !== 'ts');
  return copy as unknown as Schema;
}

describe('docs/alert.schema.json against real alerts', () => {
  it('every alert of the scenario golden run validates (29 alerts)', () => {
    expect(golden.length).toBe(29);
    const g = withoutTs();
    for (const a of golden) expect(validate(g, a), a.call.callId).toEqual([]);
    // And the golden lines are the only thing missing ts: with it they pass the full schema.
    for (const a of golden) expect(validate(schema, { ...a, ts: '2026-01-01T00:00:00.000Z' })).toEqual([]);
  });

  it('every alert of a fresh analyze of captures/scenario validates, ts included', async () => {
    const config = loadConfig('captures/scenario/spoofwatch.yaml');
    if (!config.ok) throw new Error(config.errors.join('\n'));
    const report = await analyzeFiles(['captures/scenario/scenario.pcapng'], config.config);
    expect(report.alerts.length).toBe(29);
    for (const a of report.alerts) expect(validate(schema, a), `${a.rule} ${a.call.callId}`).toEqual([]);
    // The richest optional parts appear: a diversion list and a displayName.
    expect(report.alerts.some((a) => a.call.diversion !== undefined)).toBe(true);
    expect(report.alerts.some((a) => a.presented.displayName !== undefined)).toBe(true);
  });
});

describe('WebSocket /alerts messages of a running daemon', () => {
  const tmp = tempDir('sw-schema-');
  const stops: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    tmp.cleanup();
  });

  it('hello, subscribed, alert and every error validate as serverMessage', async () => {
    const d = await quietDaemon(labConfig({ store: join(tmp.dir, 'store.db') }));
    stops.push(() => d.stop());
    const client = new WsClient(d.urls.ws);
    stops.push(() => void client.ws.terminate());
    await client.opened;
    await client.hello();
    const subscribe = { type: 'subscribe', minSeverity: 'info', since: 0 };
    expect(validate(ref('clientMessage'), subscribe)).toEqual([]);
    client.send(subscribe);
    await waitFor(() => client.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    await sendUdp(d.ports.sipUdp!, [invite('schema-1@test', { srcIp: '127.0.0.99' })], '127.0.0.99');
    await waitFor(() => client.alerts.length > 0, 5000, 'an alert');
    client.ws.send('not json');
    client.send({ type: 'subscribe', minSeverity: 'loud' });
    client.send({ type: 'subscribe', since: 1e9 });
    await waitFor(() => client.messages.filter((m) => m.type === 'error').length === 3, 5000, 'three errors');
    const types = client.messages.map((m) => (m.type === 'error' ? `error ${String(m['code'])}` : m.type));
    expect(types).toEqual(['hello', 'subscribed', 'alert', 'error BAD_MESSAGE', 'error BAD_SUBSCRIBE', 'error SINCE_AHEAD']);
    for (const m of client.messages) expect(validate(ref('serverMessage'), m), m.type).toEqual([]);
  }, 20_000);
});

describe('the validator rejects bad alerts', () => {
  const good = { ...golden[0]!, ts: '2026-01-01T00:00:00.000Z' } as Alert;
  const bad = (mutate: (a: Record<string, unknown> & Alert) => void): string[] => {
    const a = JSON.parse(JSON.stringify(good)) as Record<string, unknown> & Alert;
    mutate(a);
    return validate(schema, a);
  };

  it('accepts the good one', () => expect(validate(schema, good)).toEqual([]));
  it('a missing field', () => expect(bad((a) => delete (a as Partial<Alert>).captureTs)).toEqual(['$: missing captureTs']));
  it('an unknown severity', () =>
    expect(bad((a) => ((a as { severity: string }).severity = 'HIGH'))).toEqual(['$.severity: expected one of "info", "low", "medium", "high", "critical", got "HIGH"']));
  it('another schema version', () => expect(bad((a) => ((a as { v: number }).v = 2))).toEqual(['$.v: expected 1']));
  it('an unknown property, also nested', () => {
    expect(bad((a) => (a['extra'] = 1))).toEqual(['$: unknown property extra']);
    expect(bad((a) => ((a.network as unknown as Record<string, unknown>)['vlan'] = 7))).toEqual(['$.network: unknown property vlan']);
  });
  it('wrong types in arrays and numbers', () => {
    expect(bad((a) => ((a.call.pai as unknown[])[0] = 5))).toEqual(['$.call.pai[0]: expected string, got integer']);
    expect(bad((a) => ((a.evidence[0] as { frame: unknown }).frame = '7'))).toEqual(['$.evidence[0].frame: expected integer, got string']);
    expect(bad((a) => (a.seq = -1))).toEqual(['$.seq: below the minimum 0']);
    expect(bad((a) => ((a as { seq: unknown }).seq = 1.5))).toEqual(['$.seq: expected integer, got number']);
    expect(bad((a) => ((a as { reasons: unknown }).reasons = 'x'))).toEqual(['$.reasons: expected array, got string']);
  });
  it('the HEP agent of issue #16: address required, capture id an integer', () => {
    expect(bad((a) => ((a.network as unknown as Record<string, unknown>)['agent'] = { address: '127.0.0.1:9060', captureId: 2001 }))).toEqual([]);
    expect(bad((a) => ((a.network as unknown as Record<string, unknown>)['agent'] = { captureId: '2001' }))).toEqual([
      '$.network.agent: missing address',
      '$.network.agent.captureId: expected integer, got string',
    ]);
  });
  it('a trust outside its enum', () =>
    expect(bad((a) => ((a.network as { trust: string }).trust = 'maybe'))).toEqual(['$.network.trust: expected one of "trusted", "untrusted", got "maybe"']));
  it('oneOf: a message that is none of the server messages, or a hello with an alert field', () => {
    expect(validate(ref('serverMessage'), { type: 'goodbye' })).toEqual(['$: matches 0 of the oneOf alternatives, expected exactly 1']);
    expect(validate(ref('serverMessage'), { type: 'alert', alert: { ...good, severity: 'x' } })).toEqual(['$: matches 0 of the oneOf alternatives, expected exactly 1']);
    expect(validate(ref('serverMessage'), { type: 'hello', v: 1, lastSeq: 0, epoch: 'e' })).toEqual([]);
  });
  it('a keyword outside the subset is refused, not ignored', () => {
    expect(() => validate({ type: 'string', pattern: '^a' }, 'b')).toThrow('unsupported keyword pattern at $');
  });
});
