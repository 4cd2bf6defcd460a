/**
 * Acceptance: every live source feeds the one Analyzer and a WebSocket client receives exactly the alerts the
 * offline pipeline (`analyze`) raises for the same traffic — HEP over UDP and TCP, a capture dropped into the
 * watched folder (read once, also across a restart), SIPp over UDP and TCP, and an interface via tcpdump.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { encodeHep } from '../../src/decode/hep.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import {
  captureDatagrams,
  hasBinary,
  labConfig,
  quietDaemon,
  ruleCallSet,
  SCENARIO_DIR,
  SCENARIO_PCAP,
  sendTcp,
  sendUdp,
  sleep,
  tempDir,
  waitFor,
  WsClient,
} from './helpers.js';

if (!hasBinary('sipp')) console.warn('skipping the SIPp test: sipp is missing (apt-get install -y sip-tester tcpdump)');
if (!hasBinary('tcpdump')) console.warn('skipping the interface test: tcpdump is missing (apt-get install -y sip-tester tcpdump)');
else if (process.getuid?.() !== 0) console.warn('skipping the interface test: capturing on lo needs root');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function daemonWithClient(opts: { watch?: boolean } = {}) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const config = labConfig({ store: join(tmp.dir, 'store.db'), ...(opts.watch ? { watch: join(tmp.dir, 'in') } : {}) });
  if (opts.watch) (await import('node:fs')).mkdirSync(join(tmp.dir, 'in'));
  const d = await quietDaemon(config);
  cleanups.push(() => d.stop());
  const client = new WsClient(d.urls.ws);
  cleanups.push(() => void client.ws.terminate());
  await client.hello();
  return { d, client, tmp, config };
}

async function offlineAlerts(file: string, d: DaemonHandle): Promise<Alert[]> {
  return (await analyzeFiles([file], d.config())).alerts;
}

/** Wait until `n` alerts arrived, then a little longer to catch any extra one. */
async function settle(client: WsClient, n: number): Promise<void> {
  await waitFor(() => client.alerts.length >= n, 15_000, `${n} alerts (have ${client.alerts.length})`);
  await sleep(300);
}

describe('daemon ingestion', () => {
  it('HEP v3 over UDP and TCP: the WS client gets exactly the offline alerts of the replayed capture', async () => {
    const { d, client } = await daemonWithClient();
    const expected = await offlineAlerts(SCENARIO_PCAP, d);
    expect(expected.length).toBeGreaterThan(10);
    const dgs = await captureDatagrams(SCENARIO_PCAP);
    const hep = (dg: (typeof dgs)[number]) =>
      encodeHep({
        ipFamily: 4,
        ipProtocol: dg.transport === 'tcp' ? 6 : 17,
        src: dg.src,
        dst: dg.dst,
        ts: dg.ts,
        payloadType: 1,
        captureId: 2001,
        payload: dg.payload,
      });
    const udp = dgs.filter((x) => x.transport === 'udp');
    const tcp = dgs.filter((x) => x.transport === 'tcp' && x.payload.length > 0);
    expect(tcp.length).toBeGreaterThan(0);
    // In capture order: UDP calls first as they come, the TCP call's messages over one HEP TCP connection.
    await sendUdp(d.ports.hepUdp!, udp.map(hep));
    // Split the TCP stream at odd boundaries: the framer must reassemble HEP packets.
    const stream = Buffer.concat(tcp.map(hep));
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 37) chunks.push(stream.subarray(i, i + 37));
    await sendTcp(d.ports.hepTcp!, chunks);
    await settle(client, expected.length);
    expect(ruleCallSet(client.alerts)).toEqual(ruleCallSet(expected));
    // Origin is kept: every alert says it came through HEP.
    expect(new Set(client.alerts.map((a) => a.network.origin))).toEqual(new Set(['hep-udp', 'hep-tcp']));
    const seqs = client.alerts.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('a capture dropped into the watched folder is read once, also across a restart', async () => {
    const { d, client, tmp, config } = await daemonWithClient({ watch: true });
    const file = join(tmp.dir, 'in', 'drop.pcapng');
    // Written in two steps: the watcher must wait for a stable size.
    const bytes = readFileSync(SCENARIO_PCAP);
    writeFileSync(file, bytes.subarray(0, 1000));
    await sleep(150);
    writeFileSync(file, bytes);
    const expected = await offlineAlerts(SCENARIO_PCAP, d);
    await settle(client, expected.length);
    expect(ruleCallSet(client.alerts)).toEqual(ruleCallSet(expected));
    expect(new Set(client.alerts.map((a) => a.network.origin))).toEqual(new Set([file]));
    const last = d.store.lastSeq();
    await d.stop();
    // Restart on the same store: the file is remembered, nothing is read again.
    const d2 = await quietDaemon(config);
    cleanups.push(() => d2.stop());
    await d2.pollWatch();
    await d2.pollWatch();
    await d2.pollWatch();
    await sleep(200);
    expect(d2.store.lastSeq()).toBe(last);
    // A new file is read.
    copyFileSync(join(import.meta.dirname, '../captures/sipp-udp.pcapng'), join(tmp.dir, 'in', 'second.pcapng'));
    await waitFor(() => d2.sources().find((s) => s.name === 'watch')!.counters.frames > 0, 10_000, 'second file read');
  });

  it.skipIf(!hasBinary('sipp'))('SIPp calls over UDP and TCP from per-peer source addresses', async () => {
    const { d, client } = await daemonWithClient();
    const offline = await offlineAlerts(SCENARIO_PCAP, d);
    const tagOf = (a: Alert) => /tag=(sc\d+)-caller/.exec(a.call.from)?.[1] ?? '?';
    const played: { id: string; ip: string; transport: 'udp' | 'tcp' }[] = [
      { id: 'sc01', ip: '127.0.0.10', transport: 'udp' },
      { id: 'sc05', ip: '127.0.0.13', transport: 'udp' },
      { id: 'sc09', ip: '127.0.0.11', transport: 'udp' },
      { id: 'sc16', ip: '127.0.0.99', transport: 'udp' },
      { id: 'sc17', ip: '127.0.0.13', transport: 'udp' },
      { id: 'sc22', ip: '127.0.0.10', transport: 'tcp' },
    ];
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    // Calls are independent (no windowed rule links them), so they play concurrently.
    await Promise.all(played.map(async (c, i) => {
      const port = c.transport === 'udp' ? d.ports.sipUdp! : d.ports.sipTcp!;
      // The daemon only listens: SIPp sends the INVITE (retransmitting over UDP) and gives up after 2 s.
      const args = ['-sf', join(SCENARIO_DIR, 'xml', `${c.id}.xml`), `127.0.0.1:${port}`, '-i', c.ip, '-p', String(base + i * 2),
        '-mp', String(base + 1000 + i * 4), '-t', c.transport === 'udp' ? 'u1' : 't1', '-m', '1', '-nostdin', '-timeout', '2', '-timeout_error', '-trace_err', '-error_file', '/dev/null'];
      await new Promise<void>((resolve) => {
        const p = spawn('sipp', args, { stdio: 'ignore' });
        const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
        p.on('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }));
    const ids = new Set(played.map((p) => p.id));
    const expected = offline.filter((a) => ids.has(tagOf(a)));
    await settle(client, expected.length);
    const got = client.alerts;
    const byTag = (list: Alert[]) => [...new Set(list.map((a) => `${tagOf(a)} ${a.rule}`))].sort();
    expect(byTag(got)).toEqual(byTag(expected));
    // One Call-ID per played call, and each (Call-ID, rule) exactly once.
    const callIds = new Map<string, Set<string>>();
    for (const a of got) (callIds.get(tagOf(a)) ?? callIds.set(tagOf(a), new Set()).get(tagOf(a))!).add(a.call.callId);
    for (const set of callIds.values()) expect(set.size).toBe(1);
    expect(new Set(ruleCallSet(got)).size).toBe(got.length);
    const tcpAlerts = got.filter((a) => tagOf(a) === 'sc22');
    expect(tcpAlerts.length).toBeGreaterThan(0);
    expect(tcpAlerts.every((a) => a.network.transport === 'tcp' && a.network.origin === 'sip-tcp')).toBe(true);
  });

  it.skipIf(!hasBinary('tcpdump') || process.getuid?.() !== 0)('interface capture through tcpdump -i lo', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    // A port nobody listens on: only the capture sees the INVITE.
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    const config = labConfig({
      store: join(tmp.dir, 'store.db'),
      over: { sources: { interface: { name: 'lo', filter: `udp port ${port}` } } },
    });
    const d = await quietDaemon(config);
    cleanups.push(() => d.stop());
    expect(d.sources().find((s) => s.name === 'interface')?.up).toBe(true);
    const client = new WsClient(d.urls.ws);
    cleanups.push(() => void client.ws.terminate());
    await client.hello();
    const invite = [
      `INVITE sip:+31301234500@127.0.0.1:${port} SIP/2.0`,
      'Via: SIP/2.0/UDP 127.0.0.99:5099;branch=z9hG4bK-iface-1',
      'From: <sip:+31301234567@unknown.example>;tag=iface',
      `To: <sip:+31301234500@127.0.0.1:${port}>`,
      'Call-ID: iface-capture-1@test',
      'CSeq: 1 INVITE',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    // tcpdump may need a moment after "listening on" before packets flow.
    await waitFor(async () => {
      await sendUdp(port, [Buffer.from(invite)], '127.0.0.99');
      await sleep(200);
      return client.alerts.length > 0;
    }, 10_000, 'an alert from the interface capture');
    expect(client.alerts.every((a) => a.call.callId === 'iface-capture-1@test' && a.network.origin === 'interface:lo')).toBe(true);
    expect(client.alerts.map((a) => a.rule)).toContain('SRC-UNKNOWN-PEER');
  });

  it('a missing tcpdump is a clear error on the source, not a crash', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const config = labConfig({ store: join(tmp.dir, 'store.db'), over: { sources: { interface: { name: 'lo' } } } });
    const d = await quietDaemon(config, { tcpdump: '/nonexistent/tcpdump' });
    cleanups.push(() => d.stop());
    const s = d.sources().find((x) => x.name === 'interface');
    expect(s?.up).toBe(false);
    expect(s?.error).toMatch(/not found: install it \(apt-get install -y tcpdump\)/);
    const h = d.health();
    expect(h.ok).toBe(false);
  });
});
