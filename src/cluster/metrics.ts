/**
 * Prometheus metrics of the scale-out roles (issue #22), registered on the daemon's own Registry
 * (src/daemon/metrics.ts) so that `/metrics` shows them beside the rest: publish latency to JetStream, the sensor's
 * buffer while NATS is unreachable and what it dropped, each owned shard's consumer lag, and the NATS connection.
 * The roles call the small typed object; labels are bounded (`kind` is alert|fact, `shard` < cluster.shards).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What a sensor or correlator publishes: an alert to the alert stream, a fact to its shard's subject. */
export type PublishKind = 'alert' | 'fact';

export interface ClusterMetrics {
  /** One acknowledged JetStream publish: from the call to the stream's ack, in seconds. */
  observePublish(kind: PublishKind, seconds: number): void;
  /** Messages held in the sensor's buffer now (publishes waiting for NATS). */
  setBuffer(n: number): void;
  /** One message dropped because the buffer was full (never published). */
  dropped(kind: PublishKind): void;
  /** Facts of an owned shard not yet delivered to its correlator (the consumer's num_pending). */
  setLag(shard: number, n: number): void;
  /** A shard this process no longer owns: its lag series goes (another correlator reports it). */
  releaseShard(shard: number): void;
  /** Whether the NATS connection is up. */
  setConnected(up: boolean): void;
}

/**
 * Publish latency buckets, seconds: an R3 publish acknowledges after a quorum write (sub-millisecond to a few ms
 * on a LAN); the top buckets catch a leader election (seconds).
 */
export const PUBLISH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createClusterMetrics(registry: Registry): ClusterMetrics {
  const registers = [registry];
  const publish = new Histogram({
    name: 'spoofwatch_cluster_publish_seconds',
    help: 'JetStream publish latency until the stream acknowledged, by kind (alert, fact)',
    labelNames: ['kind'],
    buckets: PUBLISH_BUCKETS,
    registers,
  });
  const buffer = new Gauge({ name: 'spoofwatch_cluster_buffer_messages', help: 'Messages buffered by the sensor while NATS does not acknowledge them', registers });
  const drops = new Counter({
    name: 'spoofwatch_cluster_buffer_dropped_total',
    help: 'Messages the sensor dropped because its buffer was full (never published), by kind',
    labelNames: ['kind'],
    registers,
  });
  const lag = new Gauge({ name: 'spoofwatch_cluster_consumer_lag', help: 'Facts not yet delivered to this correlator, per owned shard', labelNames: ['shard'], registers });
  const connected = new Gauge({ name: 'spoofwatch_cluster_connected', help: '1 while the NATS connection is up', registers });
  // Both kinds show from the start (0), so a rate() over them exists before the first drop.
  for (const kind of ['alert', 'fact'] as const) drops.inc({ kind }, 0);
  connected.set(0);
  return {
    observePublish(kind, seconds) {
      publish.observe({ kind }, seconds);
    },
    setBuffer(n) {
      buffer.set(n);
    },
    dropped(kind) {
      drops.inc({ kind });
    },
    setLag(shard, n) {
      lag.set({ shard: String(shard) }, n);
    },
    releaseShard(shard) {
      lag.remove({ shard: String(shard) });
    },
    setConnected(up) {
      connected.set(up ? 1 : 0);
    },
  };
}
