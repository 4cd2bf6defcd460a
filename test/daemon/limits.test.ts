/**
 * Issue #18 point 1: `limits.*` keys that bound the daemon's clients reach their bound, and /metrics shows each
 * bound's limit, use and evictions (spoofwatch_limit / _used / _evictions_total{bound}).
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { Socket } from 'node:net';
import { invite, labConfig, metricValue, quietDaemon, sendUdp, sleep, tempDir, waitFor, WsClient } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function daemonWith(limits: Partial<Config['limits']>, server: Partial<Config['server']> = {}) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const base = labConfig({ store: join(tmp.dir, 'store.db') });
  const d = await quietDaemon({ ...base, limits: { ...base.limits, ...limits }, server: { ...base.server, ...server } }, { closeGraceMs: 20_000 });
  cleanups.push(() => d.stop());
  return d;
}

const metrics = async (url: string) => (await fetch(url)).text();

describe('limits.wsClients', () => {
  it('refuses the client after the limit with close 1013 and a reason naming the limit; a freed place is taken again', async () => {
    const d = await daemonWith({ wsClients: 2 });
    const a = new WsClient(d.urls.ws);
    const b = new WsClient(d.urls.ws);
    cleanups.push(() => void a.ws.terminate(), () => void b.ws.terminate());
    await a.hello();
    await b.hello();
    const c = new WebSocket(d.urls.ws);
    cleanups.push(() => void c.terminate());
    const messages: string[] = [];
    c.on('message', (m) => messages.push(String(m)));
    const [code, reason] = await new Promise<[number, string]>((r) => c.once('close', (k, why) => r([k, String(why)])));
    expect(code).toBe(1013);
    expect(reason).toBe('too many clients: limits.wsClients 2 reached, try again later');
    expect(messages).toEqual([]); // no hello: refused before anything is sent
    const m = await metrics(d.urls.metrics);
    expect(metricValue(m, 'spoofwatch_limit', { bound: 'wsClients' })).toBe(2);
    expect(metricValue(m, 'spoofwatch_limit_used', { bound: 'wsClients' })).toBe(2);
    expect(metricValue(m, 'spoofwatch_limit_evictions_total', { bound: 'wsClients' })).toBe(1);
    await a.close();
    await waitFor(() => d.hub.size === 1, 5000, 'a gone');
    const e = new WsClient(d.urls.ws);
    cleanups.push(() => void e.ws.terminate());
    expect((await e.hello()).type).toBe('hello');
  });

  it('the default (256) takes 3 clients', async () => {
    const d = await daemonWith({});
    const cs = [0, 1, 2].map(() => new WsClient(d.urls.ws));
    cleanups.push(() => cs.forEach((c) => c.ws.terminate()));
    for (const c of cs) await c.hello();
    expect(d.hub.size).toBe(3);
    expect(metricValue(await metrics(d.urls.metrics), 'spoofwatch_limit', { bound: 'wsClients' })).toBe(256);
  });
});

describe('limits.httpConnections', () => {
  it('closes connections beyond the limit on accept and counts them', async () => {
    const d = await daemonWith({ httpConnections: 3 });
    const port = d.ports.http;
    const open = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<ReturnType<typeof connect>>((r) => {
            const s = connect({ host: '127.0.0.1', port }, () => r(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    cleanups.push(() => open.forEach((s) => s.destroy()));
    await sleep(100);
    const extra = connect({ host: '127.0.0.1', port });
    extra.on('error', () => undefined);
    const closed = await new Promise<boolean>((r) => {
      extra.once('close', () => r(true));
      setTimeout(() => r(false), 3000).unref();
    });
    expect(closed).toBe(true);
    open[0]!.destroy();
    await sleep(100);
    const m = await metrics(d.urls.metrics); // the scrape is the 3rd connection again
    expect(metricValue(m, 'spoofwatch_limit', { bound: 'httpConnections' })).toBe(3);
    expect(metricValue(m, 'spoofwatch_limit_used', { bound: 'httpConnections' })).toBe(3);
    expect(metricValue(m, 'spoofwatch_limit_evictions_total', { bound: 'httpConnections' })).toBe(1);
  });
});

describe('limits.wsBufferBytes', () => {
  /** Two clients that stop reading, 400 alerts of ~2.5 KB: each client's 4 MiB bound is never reached. */
  async function twoStalledClients(limits: Partial<Config['limits']>): Promise<{ slowClosed: number; codes: (number | undefined)[] }> {
    const d = await daemonWith(limits, { maxClientBufferBytes: 4 * 1024 * 1024, slowClientSeconds: 1, heartbeatSeconds: 60 });
    const cs = [new WsClient(d.urls.ws), new WsClient(d.urls.ws)];
    cleanups.push(() => cs.forEach((c) => c.ws.terminate()));
    for (const c of cs) await c.hello();
    for (const c of cs) (c.ws as unknown as { _socket: Socket })._socket.pause();
    const display = 'X'.repeat(1500);
    for (let b = 0; b < 8; b++) {
      await sendUdp(d.ports.sipUdp!, Array.from({ length: 50 }, (_, i) => invite(`wsbuf-${b}-${i}@test`, { srcIp: '127.0.0.99', display })), '127.0.0.99');
    }
    await waitFor(() => d.analyzer.stats.messages >= 400, 10_000, 'messages analysed');
    await sleep(2000); // past slowClientSeconds
    const m = await metrics(d.urls.metrics);
    return { slowClosed: metricValue(m, 'spoofwatch_ws_slow_closed_total'), codes: cs.map((c) => c.closeCode) };
  }

  it('256 KiB: clients with a backlog are closed with 1013 once all together hold more; the default (64 MiB) keeps them', async () => {
    const capped = await twoStalledClients({ wsBufferBytes: 256 * 1024 });
    expect(capped.slowClosed).toBe(2);
    const dflt = await twoStalledClients({});
    expect(dflt.slowClosed).toBe(0);
  }, 40_000);
});
