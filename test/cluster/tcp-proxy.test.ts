/** The fault tests' TCP proxy (test/cluster/tcp-proxy.ts): pipes both ways, cuts every connection, refuses while cut. */
import { connect, createServer, type Socket } from 'node:net';
import { connect as natsConnect, Events } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { hasNatsServer, startNatsCluster } from './nats-harness.js';
import { startTcpProxy } from './tcp-proxy.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Connect, send `text`, and resolve with what came back before the socket closed or `ms` passed. */
function exchange(port: number, text: string, ms = 1000): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    let got = '';
    let closed = false;
    s.on('data', (d) => (got += String(d)));
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      resolve({ got, closed });
    });
    s.on('connect', () => s.write(text));
    setTimeout(() => {
      s.destroy();
      resolve({ got, closed });
    }, ms);
  });
}

describe('TCP proxy', () => {
  it('pipes to the target, cuts open connections, refuses while cut, and works again when restored', async () => {
    const echo = createServer((c) => c.pipe(c));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
    const proxy = await startTcpProxy((echo.address() as { port: number }).port);
    cleanups.push(() => proxy.stop());

    expect(await exchange(proxy.port, 'one', 300)).toEqual({ got: 'one', closed: false });

    const held = connect(proxy.port, '127.0.0.1');
    const heldClosed = new Promise<boolean>((r) => held.on('close', () => r(true)));
    held.on('error', () => undefined);
    await new Promise<void>((r) => held.on('connect', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    proxy.cut();
    expect(await heldClosed).toBe(true);
    expect(await exchange(proxy.port, 'two')).toEqual({ got: '', closed: true });

    proxy.restore();
    expect(await exchange(proxy.port, 'three', 300)).toEqual({ got: 'three', closed: false });
    expect(proxy.accepted()).toBe(3);
  });
});

describe.runIf(hasNatsServer())('TCP proxy in front of a NATS node (cluster started with --no_advertise)', () => {
  it('a client given only the proxy learns no other node, loses the link while cut and comes back through the proxy', async () => {
    const c = await startNatsCluster(3, 20_000, { noAdvertise: true });
    cleanups.push(() => c.stop());
    const proxy = await startTcpProxy(c.nodes[0]!.clientPort);
    cleanups.push(() => proxy.stop());
    const nc = await natsConnect({ servers: [`nats://127.0.0.1:${proxy.port}`], maxReconnectAttempts: -1, reconnectTimeWait: 200, reconnectJitter: 0 });
    cleanups.push(() => nc.close());
    expect(nc.info?.connect_urls ?? []).toEqual([]);
    const events: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === Events.Disconnect || s.type === Events.Reconnect) events.push(s.type);
    })();
    proxy.cut();
    await new Promise((r) => setTimeout(r, 1500));
    expect(nc.isClosed()).toBe(false);
    expect(events).toEqual([Events.Disconnect]);
    proxy.restore();
    const end = Date.now() + 10_000;
    while (!events.includes(Events.Reconnect) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([Events.Disconnect, Events.Reconnect]);
    expect(nc.getServer()).toBe(`127.0.0.1:${proxy.port}`);
    expect(proxy.accepted()).toBeGreaterThanOrEqual(2);
    await nc.flush();
  }, 60_000);
});
