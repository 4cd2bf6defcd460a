/** Configs of the scale-out tests (issue #22): the scenario lab config with a `cluster` section and a watched folder. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type ClusterConfig, type Config } from '../../src/config/index.js';
import { labConfig } from '../daemon/helpers.js';

/** A `cluster` section through the config schema (its defaults and checks), from YAML text. */
export function clusterSection(yaml: string): ClusterConfig {
  const r = parseConfig(`cluster:\n${yaml.replace(/^/gm, '  ')}\n`, 'cluster.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.cluster!;
}

/** The scenario lab config on ephemeral ports, its store and watched folder under `dir/name`, with `cluster`. */
export function nodeConfig(dir: string, name: string, servers: readonly string[], cluster: string): Config {
  const home = join(dir, name);
  mkdirSync(join(home, 'watch'), { recursive: true });
  const base = labConfig({ store: join(home, 'store.db'), watch: join(home, 'watch') });
  return {
    ...base,
    // Only the watched folder: no SIP/HEP listeners needed.
    sources: { watch: base.sources.watch! },
    cluster: clusterSection(`nats: { servers: [${servers.map((s) => JSON.stringify(s)).join(', ')}] }\n${cluster}`),
  };
}
