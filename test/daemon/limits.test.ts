/**
 * Issue #18 point 1: `limits.*` keys that bound the daemon's clients reach their bound, and /metrics shows each
 * bound's limit, use and evictions (spoofwatch_limit / _used / _evictions_total{bound}).
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { labConfig, metricValue, quietDaemon, sleep, tempDir, waitFor, WsClient } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function daemonWith(limits: Partial<Config['limits']>) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const base = labConfig({ store: join(tmp.dir, 'store.db') });
  const d = await quietDaemon({ ...base, limits: { ...base.limits, ...limits } });
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
