/** Datagrams the kernel drops before the listener reads them (full receive queue) are visible in /metrics. */
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelUdpDrops, udpEndpointOf } from '../../src/sources/udp-drops.js';
import { labConfig, quietDaemon, tempDir } from './helpers.js';

const LINUX = process.platform === 'linux';

describe.skipIf(!LINUX)('kernel UDP drops', () => {
  it('parses udp:IP:PORT source addresses', () => {
    expect(udpEndpointOf('udp:127.0.0.1:5060')).toEqual({ ip: '127.0.0.1', port: 5060 });
    expect(udpEndpointOf('udp:[::1]:9060')).toEqual({ ip: '::1', port: 9060 });
    expect(udpEndpointOf('tcp:127.0.0.1:5060')).toBeUndefined();
  });

  it('counts what overflowed the SIP listener while the process was busy, per source', async () => {
    const t = tempDir();
    const d = await quietDaemon(labConfig({ store: join(t.dir, 'a.db') }));
    try {
      const port = d.ports.sipUdp!;
      expect(kernelUdpDrops('127.0.0.1', port)).toBe(0);
      const tx = createSocket('udp4');
      const junk = Buffer.alloc(1200, 0x41);
      await new Promise<void>((res) => tx.connect(port, '127.0.0.1', () => res()));
      // Block this event loop (the daemon's too) while sending far more than a default receive buffer holds.
      for (let i = 0; i < 5000; i++) tx.send(junk);
      const until = Date.now() + 300;
      while (Date.now() < until) {
        /* busy: the daemon cannot read */
      }
      await new Promise((r) => setTimeout(r, 300));
      tx.close();
      const drops = kernelUdpDrops('127.0.0.1', port)!;
      expect(drops).toBeGreaterThan(0);
      const text = await (await fetch(`${d.urls.metrics}`)).text();
      const m = /spoofwatch_source_kernel_drops\{source="sip-udp"\} (\d+)/.exec(text);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBe(drops);
    } finally {
      await d.stop();
      t.cleanup();
    }
  });
});
