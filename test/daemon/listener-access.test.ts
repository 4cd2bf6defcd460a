/**
 * Issue #17 point 5: SIP and HEP listeners reachable from the network need an explicit `allowFrom`, and the daemon
 * enforces it on every datagram and connection (loopback only here: 127.0.0.2 plays the outsider against
 * `allowFrom: [127.0.0.1/32]`). HEP `authKey` (chunk 14) and `captureIds` (chunk 12) are enforced too; every
 * refusal is counted in `spoofwatch_anomalies_total`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeConfig, parseConfig } from '../../src/config/index.js';
import { encodeHep, type HepPacket } from '../../src/decode/hep.js';
import { Ingest } from '../../src/pipeline/ingest.js';
import { startListenerPair } from '../../src/sources/listeners.js';
import { invite, labConfig, metricValue, quietDaemon, sendTcp, sendUdp, sleep, tempDir, waitFor } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('config: a listener off loopback needs allowFrom', () => {
  it('0.0.0.0 and :: without allowFrom are errors naming the path; with allowFrom they load', () => {
    const r = parseConfig('sources:\n  sip: { host: 0.0.0.0 }\n  hep: { host: "::", port: 9061 }\n', 'x.yaml');
    expect(r).toEqual({
      ok: false,
      errors: [
        'sources.sip.allowFrom: required when sources.sip.host ("0.0.0.0") is not a loopback address: list the CIDRs that may send (e.g. [192.0.2.0/24]), or bind to 127.0.0.1',
        'sources.hep.allowFrom: required when sources.hep.host ("::") is not a loopback address: list the CIDRs that may send (e.g. [192.0.2.0/24]), or bind to 127.0.0.1',
      ],
    });
    const ok = parseConfig(
      'sources:\n  sip: { host: 0.0.0.0, allowFrom: [192.0.2.0/24, "2001:db8::/32"] }\n  hep: { host: "::", port: 9061, allowFrom: [10.1.2.3], authKey: s3cret, captureIds: [2001, 2002] }\n',
      'x.yaml',
    );
    if (!ok.ok) throw new Error(ok.errors.join('\n'));
    expect(ok.config.sources.sip?.allowFrom).toEqual(['192.0.2.0/24', '2001:db8::/32']);
    expect(ok.config.sources.hep).toMatchObject({ allowFrom: ['10.1.2.3/32'], authKey: 's3cret', captureIds: [2001, 2002] });
    // config check shows who may send, never the key itself.
    expect(describeConfig(ok.config).split('\n').find((l) => l.startsWith('sources:'))).toBe(
      'sources: sip udp+tcp 0.0.0.0:5060 (only from 192.0.2.0/24 2001:db8::/32); hep udp+tcp [::]:9061 (only from 10.1.2.3/32, capture ids 2001,2002, auth key); watch captures/',
    );
  });

  it('bad allowFrom entries, an empty list, authKey on a SIP listener are errors', () => {
    const r = parseConfig('sources:\n  sip: { allowFrom: [10.0.0.1/8], authKey: x }\n  hep: { allowFrom: [], captureIds: [-1] }\n', 'x.yaml');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toEqual([
      'sources.sip.allowFrom[0]: host bits set after the prefix ("10.0.0.1/8"; did you mean "10.0.0.0/8"?)',
      'sources.sip.authKey: unknown key',
      'sources.hep.allowFrom: must have at least 1 entry',
      'sources.hep.captureIds[0]: must be at least 0, got -1',
    ]);
  });

  it('startListenerPair refuses a public bind without allowFrom before binding anything', async () => {
    const deps = { ingest: (o: { origin: string; maxStreams?: number }) => new Ingest({ ...o, onMessage: () => undefined }), limits: labConfig({ store: ':memory:' }).limits };
    await expect(startListenerPair('sip', { host: '0.0.0.0', port: 0, udp: true, tcp: true }, deps)).rejects.toThrow(
      'refusing to listen on 0.0.0.0 without sources.sip.allowFrom (the CIDRs that may send)',
    );
  });
});

function hep(callId: string, extra: Partial<HepPacket>): Buffer {
  return encodeHep({
    ipFamily: 4,
    ipProtocol: 17,
    src: { ip: '127.0.0.99', port: 5099 },
    dst: { ip: '127.0.0.1', port: 5060 },
    ts: { sec: 1_700_000_000, nsec: 0 },
    payloadType: 1,
    payload: invite(callId),
    ...extra,
  });
}

describe('the daemon enforces allowFrom, authKey and captureIds', () => {
  it('SIP UDP and TCP from 127.0.0.2 with allowFrom [127.0.0.1/32]: dropped and counted; 127.0.0.1 gets through', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const base = labConfig({ store: join(tmp.dir, 'store.db') });
    const sip = { host: '127.0.0.1', port: 0, udp: true, tcp: true, allowFrom: ['127.0.0.1/32'] };
    const d = await quietDaemon({ ...base, sources: { sip } });
    cleanups.push(() => d.stop());
    await sendUdp(d.ports.sipUdp!, [invite('outsider-udp@test')], '127.0.0.2');
    const tcp = await sendTcp(d.ports.sipTcp!, [invite('outsider-tcp@test', { transport: 'TCP' })], { srcIp: '127.0.0.2', keepOpen: true });
    await waitFor(() => tcp.destroyed || tcp.readableEnded, 5000, 'refused connection closed');
    await sendUdp(d.ports.sipUdp!, [invite('insider-udp@test')], '127.0.0.1');
    await sendTcp(d.ports.sipTcp!, [invite('insider-tcp@test', { transport: 'TCP' })], { srcIp: '127.0.0.1' });
    await waitFor(() => d.analyzer.stats.messages === 2, 5000, 'insider messages');
    await sleep(100);
    // One message each through UDP and TCP: the insiders'.
    expect(d.analyzer.stats.messages).toBe(2);
    const counters = Object.fromEntries(d.sources().map((src) => [src.name, src.counters]));
    expect([counters['sip-udp']?.sipMessages, counters['sip-tcp']?.sipMessages]).toEqual([1, 1]);
    const m = await d.metrics.text();
    expect(metricValue(m, 'spoofwatch_anomalies_total', { source: 'sip-udp', kind: 'listener.refused-source' })).toBe(1);
    expect(metricValue(m, 'spoofwatch_anomalies_total', { source: 'sip-tcp', kind: 'listener.refused-source' })).toBe(1);
  });

  it('HEP with authKey and captureIds: wrong or missing key, unlisted or missing capture id dropped and counted (UDP and TCP)', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const base = labConfig({ store: join(tmp.dir, 'store.db') });
    const hepCfg = { host: '127.0.0.1', port: 0, udp: true, tcp: true, allowFrom: ['127.0.0.0/8'], authKey: 'k3y-2001', captureIds: [2001] };
    const d = await quietDaemon({ ...base, sources: { hep: hepCfg } });
    cleanups.push(() => d.stop());
    const good = { authKey: 'k3y-2001', captureId: 2001 };
    await sendUdp(d.ports.hepUdp!, [
      hep('hep-good-udp@test', good),
      hep('hep-wrong-key@test', { ...good, authKey: 'k3y-2002' }),
      hep('hep-short-key@test', { ...good, authKey: 'k3y' }),
      hep('hep-no-key@test', { captureId: 2001 }),
      hep('hep-other-agent@test', { ...good, captureId: 7 }),
      hep('hep-no-agent@test', { authKey: 'k3y-2001' }),
    ]);
    await sendTcp(d.ports.hepTcp!, [hep('hep-good-tcp@test', good), hep('hep-wrong-key-tcp@test', { ...good, authKey: 'nope' }), hep('hep-other-agent-tcp@test', { ...good, captureId: 2002 })]);
    await waitFor(() => d.analyzer.stats.messages === 2, 5000, 'the two good HEP packets');
    const stored = () => new Set(d.store.query({}).map((a) => a.call.callId));
    await waitFor(() => stored().size === 2, 5000, 'the two good alerts stored');
    await sleep(100);
    expect(d.analyzer.stats.messages).toBe(2);
    const ids = stored();
    expect([...ids].sort()).toEqual(['hep-good-tcp@test', 'hep-good-udp@test']);
    const m = await d.metrics.text();
    const count = (source: string, kind: string) => metricValue(m, 'spoofwatch_anomalies_total', { source, kind });
    expect(count('hep-udp', 'hep.refused-auth-key')).toBe(3);
    expect(count('hep-udp', 'hep.refused-capture-id')).toBe(2);
    expect(count('hep-tcp', 'hep.refused-auth-key')).toBe(1);
    expect(count('hep-tcp', 'hep.refused-capture-id')).toBe(1);
  });
});
