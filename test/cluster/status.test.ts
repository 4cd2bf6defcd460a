/**
 * Issue #22: `spoofwatch cluster status` against a real 3-node JetStream cluster (nats-server 2.9.10 on loopback,
 * test/cluster/nats-harness.ts). The streams, shard consumers and buckets are made here the way the roles make
 * them (names from src/cluster/contract.ts), messages are published, consumed, acked and nak'ed, and the command's
 * --json must show exactly those numbers; the table is terminal-safe; no reachable server is a one-line error with
 * exit code 2; a killed node shows as an offline replica. Runs dist/cli.js (needs `npm run build`).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, connect, nanos, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALERT_STREAM,
  ALERT_SUBJECTS,
  alertMsgId,
  alertSubject,
  EVIDENCE_BUCKET,
  FACT_STREAM,
  factMsgId,
  factSubject,
  FACT_SUBJECTS,
  shardConsumer,
  SHARDS_BUCKET,
  SIGHTINGS_BUCKET,
} from '../../src/cluster/contract.js';
import type { ClusterStatus } from '../../src/cluster/status.js';
import { freePort, hasNatsServer, NATS_INSTALL_HINT, startNatsCluster, type NatsCluster } from './nats-harness.js';

const ROOT = join(import.meta.dirname, '../..');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function statusJson(servers: string[], extra: string[] = []): Promise<ClusterStatus> {
  const r = await cli(['cluster', 'status', '--servers', servers.join(','), '--json', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ClusterStatus;
}

const SHARDS = 4;
const DAY_NS = nanos(24 * 3600 * 1000);

/** The layout the roles create: R3 alert and fact streams, one durable pull consumer per shard, the buckets. */
async function createLayout(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
  await jsm.streams.add({
    name: ALERT_STREAM, subjects: [ALERT_SUBJECTS], num_replicas: 3, storage: StorageType.File, retention: RetentionPolicy.Limits,
    max_age: 30 * DAY_NS, duplicate_window: nanos(120_000),
  });
  await jsm.streams.add({ name: FACT_STREAM, subjects: [FACT_SUBJECTS], num_replicas: 3, storage: StorageType.File, max_age: DAY_NS, duplicate_window: nanos(120_000) });
  for (let n = 0; n < SHARDS; n++) {
    await jsm.consumers.add(FACT_STREAM, { durable_name: shardConsumer(n), filter_subject: factSubject(n), ack_policy: AckPolicy.Explicit, ack_wait: nanos(60_000) });
  }
  const js = nc.jetstream();
  const shards = await js.views.kv(SHARDS_BUCKET, { replicas: 3, history: 1 });
  await shards.put('shard.0', 'corr-a');
  await shards.put('shard.1', 'corr-b');
  await shards.put('shard.2', 'corr-a');
  await shards.delete('shard.2'); // a released lease: no owner
  await shards.put('shard.3', 'corr-\u001b]0;owned\u0007x'); // written by whoever holds the lease: must not reach a terminal raw
  await js.views.kv(SIGHTINGS_BUCKET, { replicas: 3 });
  await js.views.os(EVIDENCE_BUCKET, { replicas: 3 });
}

describe.runIf(hasNatsServer())('spoofwatch cluster status (real 3-node nats-server cluster)', () => {
  let c: NatsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    c = await startNatsCluster(3);
    nc = await connect({ servers: c.servers });
    jsm = await nc.jetstreamManager();
    await createLayout(nc, jsm);
    const js = nc.jetstream();
    // 5 alerts, one of them published twice by two sensors with the same message id: 5 in the stream.
    for (const [i, rule] of ['CLI-MULTI-PEER', 'CLI-VELOCITY', 'PAI-MISMATCH', 'CLI-INVALID', 'CLI-MULTI-PEER'].entries()) {
      await js.publish(alertSubject(rule), JSON.stringify({ id: `alert-${i}`, rule }), { msgID: alertMsgId(`alert-${i}`) });
    }
    const dup = await js.publish(alertSubject('CLI-INVALID'), JSON.stringify({ id: 'alert-3', rule: 'CLI-INVALID' }), { msgID: alertMsgId('alert-3') });
    expect(dup.duplicate).toBe(true);
    // Facts: shard 0 ×3, shard 1 ×2, shard 3 ×1; shard 2 none. Shard 1's second fact comes after the nak below, so
    // that the redelivery is the only message its consumer can hand out.
    const fact = (callId: string, shard: number) => js.publish(factSubject(shard), JSON.stringify({ callId }), { msgID: factMsgId(callId, shard) });
    for (const [callId, shard] of [['a', 0], ['b', 0], ['c', 0], ['d', 1], ['f', 3]] as const) await fact(callId, shard);
    // Shard 0: one fact delivered and acked, one delivered and left unacked → pending 1, ack pending 1.
    const c0 = await js.consumers.get(FACT_STREAM, shardConsumer(0));
    const first = await c0.next({ expires: 5000 });
    first!.ack();
    await first!.ackAck();
    await c0.next({ expires: 5000 });
    // Shard 1: its fact nak'ed and delivered again, then acked; the next one stays pending.
    const c1 = await js.consumers.get(FACT_STREAM, shardConsumer(1));
    const m = await c1.next({ expires: 5000 });
    m!.nak();
    const again = await c1.next({ expires: 5000 });
    expect([again!.seq, again!.info.redeliveryCount]).toEqual([4, 2]);
    await again!.ackAck();
    await fact('e', 1);
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await c?.stop();
  });

  it('--json: the streams, shard consumers, owners and nodes with the exact numbers', async () => {
    const s = await statusJson(c.servers, ['--shards', String(SHARDS + 1)]);
    expect(s.server.version).toBe('2.9.10');
    expect(c.nodes.map((n) => n.name)).toContain(s.server.name);

    const alerts = s.streams.find((x) => x.name === ALERT_STREAM)!;
    expect(alerts).toMatchObject({ role: 'alerts', present: true, messages: 5, firstSeq: 1, lastSeq: 5, replicas: 3 });
    const facts = s.streams.find((x) => x.name === FACT_STREAM)!;
    expect(facts).toMatchObject({ role: 'facts', present: true, messages: 6, firstSeq: 1, lastSeq: 6, replicas: 3 });
    const info = await jsm.streams.info(ALERT_STREAM);
    expect(alerts.bytes).toBe(info.state.bytes);
    expect(alerts.bytes).toBeGreaterThan(5 * 40);
    // Every R3 group: three members, one leader, all current, all online.
    for (const st of s.streams) {
      expect(st.present).toBe(true);
      expect(st.group.map((r) => r.node).sort()).toEqual(['n1', 'n2', 'n3']);
      expect(st.group.filter((r) => r.leader).map((r) => r.node)).toEqual([st.leader]);
      expect(st.group.every((r) => r.current && !r.offline)).toBe(true);
    }
    expect(s.streams.map((x) => [x.name, x.role])).toEqual([
      [ALERT_STREAM, 'alerts'],
      [FACT_STREAM, 'facts'],
      [`KV_${SHARDS_BUCKET}`, `kv ${SHARDS_BUCKET}`],
      [`KV_${SIGHTINGS_BUCKET}`, `kv ${SIGHTINGS_BUCKET}`],
      [`OBJ_${EVIDENCE_BUCKET}`, `object ${EVIDENCE_BUCKET}`],
    ]);
    const kvShards = s.streams.find((x) => x.name === `KV_${SHARDS_BUCKET}`)!;
    expect(kvShards.messages).toBe(4); // shard.0, shard.1, the shard.2 tombstone, shard.3

    // Shard 1's delivered stream sequence is 4 (its redelivered fact) or 5: when the pull after the nak reaches the
    // consumer before the nak does, the server scans past seq 5 (shard 3's fact) and reports that (seen once in a
    // full CI run). Status must say what the server says: compared with the server's own consumer info.
    const shard1Delivered = (await jsm.consumers.info(FACT_STREAM, shardConsumer(1))).delivered.stream_seq;
    expect([4, 5]).toContain(shard1Delivered);
    expect(s.consumers.map(({ leader: _leader, ...rest }) => rest)).toEqual([
      { shard: 0, name: 'sw_corr_0', owner: 'corr-a', present: true, pending: 1, ackPending: 1, redelivered: 0, deliveredSeq: 2 },
      { shard: 1, name: 'sw_corr_1', owner: 'corr-b', present: true, pending: 1, ackPending: 0, redelivered: 0, deliveredSeq: shard1Delivered },
      { shard: 2, name: 'sw_corr_2', present: true, pending: 0, ackPending: 0, redelivered: 0, deliveredSeq: 0 },
      { shard: 3, name: 'sw_corr_3', owner: 'corr-\u001b]0;owned\u0007x', present: true, pending: 1, ackPending: 0, redelivered: 0, deliveredSeq: 0 },
      { shard: 4, name: 'sw_corr_4', present: false, pending: 0, ackPending: 0, redelivered: 0, deliveredSeq: 0 },
    ]);
    for (const x of s.consumers.filter((y) => y.present)) expect(['n1', 'n2', 'n3']).toContain(x.leader);

    // 5 streams (2 logs + 3 buckets) and the 4 shard consumers.
    expect(s.account).toMatchObject({ streams: 5, consumers: SHARDS });
    expect(s.account!.storageBytes).toBeGreaterThanOrEqual(s.streams.reduce((n, x) => n + x.bytes, 0));
    expect(s.nodes.map((n) => n.node)).toEqual(['n1', 'n2', 'n3']);
    expect(s.nodes.reduce((n, x) => n + x.leads.length, 0)).toBe(5);
    for (const n of s.nodes) {
      expect(n.leads.length + n.replicates.length).toBe(5);
      expect(n.offlineIn).toEqual([]);
    }
  }, 60_000);

  it('--config: the servers and the shard count come from the cluster section', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-status-'));
    try {
      const file = join(dir, 'sensor.yaml');
      writeFileSync(file, `cluster:\n  nats: { servers: [${c.servers.map((u) => JSON.stringify(u)).join(', ')}] }\n  role: [sensor]\n  sensorId: s1\n  shards: ${SHARDS + 2}\n`);
      const r = await cli(['cluster', 'status', '--config', file, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout) as ClusterStatus;
      expect(s.consumers.map((x) => [x.shard, x.present])).toEqual([[0, true], [1, true], [2, true], [3, true], [4, false], [5, false]]);
      expect(s.streams.find((x) => x.name === ALERT_STREAM)!.messages).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('without --shards lists only the consumers that exist; the table is terminal-safe', async () => {
    const s = await statusJson(c.servers);
    expect(s.consumers.map((x) => x.shard)).toEqual([0, 1, 2, 3]);
    const r = await cli(['cluster', 'status', '--servers', c.servers.join(',')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^connected to n[123] \(nats-server 2\.9\.10, cluster sw\d+\) at 127\.0\.0\.1:\d+$/);
    expect(lines).toContain('nodes (3, from the stream groups)');
    expect(lines.find((l) => l.includes(`${ALERT_STREAM} `))).toMatch(new RegExp(`^  ${ALERT_STREAM} +alerts +5 +\\d+ +1 +5 +3 +(n[123]\\*? ?){3}$`));
    expect(lines.find((l) => l.startsWith('  0 '))).toMatch(/^  0 +sw_corr_0 +1 +1 +0 +corr-a$/);
    expect(lines.find((l) => l.startsWith('  3 '))).toMatch(/^  3 +sw_corr_3 +1 +0 +0 +corr-\\x1b\]0;owned\\x07x$/);
    expect(r.stdout).toMatch(/^account: 5 streams, 4 consumers, \d+ bytes on disk, 0 in memory, API \d+ requests \/ \d+ errors$/m);
  }, 60_000);

  it('a killed node shows as an offline replica; the others stay current', async () => {
    const before = await statusJson(c.servers);
    const alertLeader = before.streams.find((x) => x.name === ALERT_STREAM)!.leader!;
    const victim = ['n1', 'n2', 'n3'].find((n) => n !== alertLeader)!;
    await c.kill(victim);
    const live = c.nodes.filter((n) => n.name !== victim).map((n) => n.url);
    let s: ClusterStatus | undefined;
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      s = await statusJson(live);
      // Right after the kill, a group whose leader was the victim answers nothing until it elects another
      // (the item carries an error); the report is complete once every group answers again.
      const r = s.streams.find((x) => x.name === ALERT_STREAM)!.group.find((g) => g.node === victim);
      if (r?.offline && s.accountError === undefined && s.streams.every((x) => x.error === undefined) && s.consumers.every((x) => x.error === undefined)) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const group = s!.streams.find((x) => x.name === ALERT_STREAM)!.group;
    expect(s!.streams.map((x) => x.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(s!.account).toMatchObject({ streams: 5, consumers: SHARDS });
    expect(group.find((g) => g.node === victim)).toMatchObject({ leader: false, offline: true });
    expect(group.filter((g) => g.node !== victim).every((g) => !g.offline && g.current)).toBe(true);
    expect(s!.nodes.find((n) => n.node === victim)!.offlineIn).toContain(ALERT_STREAM);
    const table = await cli(['cluster', 'status', '--servers', live.join(',')]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^  ${victim} +\\d+ +\\d+ +OFFLINE in .*${ALERT_STREAM}`, 'm'));
    expect(table.stdout).toContain(`${victim}(offline)`);
    // Nothing was lost: the two live replicas still hold the 5 alerts.
    expect(s!.streams.find((x) => x.name === ALERT_STREAM)!.messages).toBe(5);
  }, 90_000);
});

describe('spoofwatch cluster status without a reachable server', () => {
  it('nothing listening: one line, exit code 2, no stack trace', async () => {
    const port = await freePort();
    const r = await cli(['cluster', 'status', '--servers', `nats://127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`spoofwatch: CLUSTER_UNREACHABLE: no NATS server reachable at nats://127.0.0.1:${port} (within 3 s)\n`);
  }, 30_000);

  it('a server that accepts but never speaks NATS: the bounded timeout, exit code 2', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await cli(['cluster', 'status', '--servers', `nats://127.0.0.1:${port}`, '--json']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`spoofwatch: CLUSTER_UNREACHABLE: no NATS server reachable at nats://127.0.0.1:${port} (within 3 s)\n`);
    } finally {
      silent.close();
      // The server keeps accepted sockets; the CLI ended on its own (execFile's 30 s timeout would give -1).
    }
  }, 30_000);

  it.runIf(hasNatsServer())('a NATS server without JetStream: one line, exit code 2', async () => {
    const port = await freePort();
    const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    try {
      await new Promise<void>((resolve, reject) => {
        const end = Date.now() + 10_000;
        const poll = (): void => {
          const s = netConnect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve()));
          s.once('error', () => (Date.now() > end ? reject(new Error('nats-server did not start')) : setTimeout(poll, 100)));
        };
        poll();
      });
      const r = await cli(['cluster', 'status', '--servers', `nats://127.0.0.1:${port}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`spoofwatch: CLUSTER_NO_JETSTREAM: NATS at 127.0.0.1:${port} has no JetStream for this account (nats-server -js)\n`);
    } finally {
      server.kill('SIGKILL');
    }
  }, 30_000);

  it('bad --servers and a config without a cluster section are usage errors (exit 2)', async () => {
    const bad = await cli(['cluster', 'status', '--servers', 'http://x/y']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected NATS URLs separated by commas/);
    const cfg = join(ROOT, 'captures/scenario/spoofwatch.yaml');
    const none = await cli(['cluster', 'status', '--config', cfg]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`spoofwatch: CLUSTER_NOT_CONFIGURED: ${cfg} has no cluster section; add one or pass --servers\n`);
  }, 30_000);
});

if (!hasNatsServer()) console.warn(`${NATS_INSTALL_HINT}: cluster status tests skipped`);
