/**
 * Issue #22: a sensor connected to a NATS node whose R3 streams lost their quorum (the two other nodes killed) stays
 * connected but gets no PubAcks: it keeps the alerts queued, says degraded on /healthz after 10 s, and delivers them
 * once the nodes are back — each alert once.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { ALERT_STREAM } from '../../src/cluster/contract.js';
import { quietDaemon, SCENARIO_PCAP, tempDir, waitFor } from '../daemon/helpers.js';
import { nodeConfig } from './cluster-config.js';
import { hasNatsServer, startNatsCluster } from './nats-harness.js';

describe.runIf(hasNatsServer())('sensor on a node without stream quorum (real 3-node cluster)', () => {
  it('queues without PubAcks, /healthz degraded after 10 s, delivered once the quorum is back', async () => {
    const t = tempDir('spoofwatch-quorum-');
    const c = await startNatsCluster(3);
    const [n1, n2, n3] = c.nodes;
    const config = nodeConfig(t.dir, 's1', [n1!.url], 'role: [sensor]\nsensorId: s1');
    const d = await quietDaemon(config);
    try {
      await d.cluster!.ready();
      expect((await fetch(d.urls.health)).status).toBe(200);
      await c.kill(n2!.name);
      await c.kill(n3!.name);
      copyFileSync(SCENARIO_PCAP, join(config.sources.watch!.dir, 'all.pcapng'));
      await d.pollWatch();
      await d.pollWatch();
      await waitFor(() => d.analyzer.stats.initialInvites === 25, 10_000, 'the capture analysed');
      const queued = d.cluster!.publisher.stats().queued.alert;
      expect(queued).toBeGreaterThan(0);
      await waitFor(async () => (await fetch(d.urls.health)).status === 503, 20_000, '/healthz degraded');
      const h = (await (await fetch(d.urls.health)).json()) as { cluster: { connected: boolean; reason: string } };
      expect(h.cluster.connected).toBe(true);
      expect(h.cluster.reason).toMatch(/^publishes not acknowledged for \d+ s/);
      await Promise.all([c.restart(n2!.name), c.restart(n3!.name)]);
      await waitFor(async () => d.cluster!.publisher.size === 0 && (await fetch(d.urls.health)).status === 200, 30_000, 'the queue delivered');
      const nc = await connect({ servers: c.servers });
      try {
        const jsm = await nc.jetstreamManager();
        // Every per-call alert of the capture once: a publish that timed out while the quorum was gone may still
        // have been stored when it came back; its retry carries the same message id and is acknowledged as a duplicate.
        const st = d.cluster!.publisher.stats();
        expect((await jsm.streams.info(ALERT_STREAM)).state.messages).toBe(queued);
        expect(st.published.alert).toBe(queued);
        expect(st.errors).toBeGreaterThan(0);
        expect(st.dropped).toEqual({ alert: 0, fact: 0 });
      } finally {
        await nc.close();
      }
    } finally {
      await d.stop();
      await c.stop();
      t.cleanup();
    }
  }, 60_000);
});
