/**
 * `spoofwatch cluster status [--servers URL,…] [--config FILE] [--json]` (issue #22): the scale-out's NATS nodes,
 * streams, shard consumers (lag, owner) and buckets, read-only. Exit codes: 0 ok, 2 no server reachable, bad
 * config or arguments (one line on stderr, never a stack trace).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ClusterConnection } from '../cluster/status.js';
import { SpoofwatchError } from '../types.js';
import type { ConfigLoader } from './register.js';

function serversOption(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0 || list.some((s) => !/^(nats|tls):\/\/[^\s/]+$|^[^\s/:]+:\d{1,5}$/.test(s))) {
    throw new InvalidArgumentError('expected NATS URLs separated by commas, e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222');
  }
  return list;
}

function shardsOption(v: string): number {
  if (!/^\d{1,4}$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a shard count (1 or more)');
  return Number(v);
}

export function registerClusterCommands(program: Command, configFrom: ConfigLoader): void {
  const cluster = program.command('cluster').description('scale-out on NATS JetStream (docs/cluster.md)');
  cluster
    .command('status')
    .description('NATS nodes, the alert and fact streams, shard consumers (lag, owner) and buckets of a spoofwatch cluster')
    .option('--servers <urls>', 'NATS server URLs, comma-separated (default: the config\'s cluster.nats.servers)', serversOption)
    .option('-c, --config <file>', 'config with a cluster section (its cluster.nats credentials and shards)')
    .option('--shards <n>', 'shard count, so that missing shard consumers show (default: the config\'s cluster.shards)', shardsOption)
    .option('--json', 'one JSON document')
    .action(async (opts: { servers?: string[]; config?: string; shards?: number; json?: boolean }) => {
      const section = opts.config !== undefined ? configFrom(opts.config).config.cluster : undefined;
      if (opts.config !== undefined && section === undefined && opts.servers === undefined) {
        throw new SpoofwatchError('CLUSTER_NOT_CONFIGURED', `${opts.config} has no cluster section; add one or pass --servers`);
      }
      const nats: ClusterConnection = { ...(section?.nats ?? {}), servers: opts.servers ?? section?.nats?.servers ?? ['nats://127.0.0.1:4222'] };
      const shards = opts.shards ?? section?.shards;
      // The NATS client loads only for this command, not on every spoofwatch start.
      const { clusterStatus, clusterStatusJson, formatClusterStatus } = await import('../cluster/status.js');
      let s;
      try {
        s = await clusterStatus(nats, shards !== undefined ? { shards } : {});
      } catch (e) {
        // The client gives up after its timeout but leaves a silent server's socket open until that server closes
        // it: the command's answer is given, so it ends (unref: only if something still holds the process).
        setTimeout(() => process.exit(), 500).unref();
        throw e;
      }
      process.stdout.write(opts.json ? clusterStatusJson(s) : formatClusterStatus(s));
    });
}
