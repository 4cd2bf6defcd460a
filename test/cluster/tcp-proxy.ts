/**
 * A loopback TCP proxy for the scale-out fault tests (issue #22): a sensor reaches NATS through it, and the test
 * cuts that link (every open connection destroyed, new ones refused) for a while and restores it — the sensor sees
 * NATS unreachable while the cluster itself stays up. Bounded: `stop()` closes everything it opened.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Connections accepted and piped to the target so far. */
  readonly accepted: () => number;
  /** Destroy every open connection and refuse new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let down = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted: () => accepted,
    cut() {
      down = true;
      for (const s of [...open]) s.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    stop() {
      down = true;
      for (const s of [...open]) s.destroy();
      open.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
