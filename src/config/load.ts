/**
 * Reading the config once at the edge (DESIGN.md §8.5): text → YAML/JSON → zod schema →
 * cross-field checks → one deeply frozen `Config`. Every problem is one line naming its path.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument, type ScalarTag } from 'yaml';
import { SpoofwatchError } from '../types.js';
import { parseIp } from '../identity/ip.js';
import { loadTrustMaterial, rememberTrustMaterial } from '../identity/shaken/material.js';
import { CONFIG_FILE_LIMIT, readBoundedFile } from '../util/bounded-read.js';
import { DEFAULT_CONFIG_YAML } from './default.js';
import { configFileSchema, formatIssues, formatPath, type ConfigFile } from './schema.js';
import type { Config, ListenerConfig, PeerConfig, RuleConfig, SourcesConfig } from './types.js';

export type ConfigResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly errors: string[] };

/**
 * YAML 1.2 reads `+3120555` and `031205550000` as integers, losing the '+' or the leading zero of a
 * phone number; such plain scalars stay strings (nobody writes a port as `+5060` or `05060`).
 */
const digitStrings: ScalarTag = {
  tag: 'tag:yaml.org,2002:str',
  default: true,
  test: /^(?:\+[0-9]+|0[0-9]+)$/,
  resolve: (s: string) => s,
  identify: () => false,
};

function readDocument(text: string, fileName: string): { ok: true; data: unknown } | { ok: false; errors: string[] } {
  if (/\.json$/i.test(fileName)) {
    try {
      return { ok: true, data: JSON.parse(text) as unknown };
    } catch (e) {
      return { ok: false, errors: [`${fileName}: invalid JSON: ${e instanceof Error ? e.message : String(e)}`] };
    }
  }
  const doc = parseDocument(text, { customTags: (tags) => [digitStrings, ...tags], uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const where = pos === undefined ? fileName : `${fileName}:${pos.line}:${pos.col}`;
        const first = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${where}: ${first}`;
      }),
    };
  }
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (e) {
    return { ok: false, errors: [`${fileName}: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const addr = parseIp(host);
  if (addr === undefined) return false;
  if (addr.family === 4) return ((addr.value >> 24n) & 0xffn) === 127n;
  return addr.value === 1n;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/**
 * Size limits (README "Config limits"). Checked on the raw document before the schema, so a config far beyond
 * them fails at once with one line per limit instead of validating 100k peers (12 s and 1.6 GB before).
 * Measured with YAML (the YAML parser is the slow part, block mappings most), min of 5 runs on a 2-core machine at
 * load 13: 5,000 peers 2.3 s, 20,000 do-not-originate entries 2.7 s, 50,000 numbers in flow lists
 * 0.74 s; about 3.5× less on an idle core. The limits keep each of them near 0.3 s idle; JSON loads ~13× faster
 * (5,000 peers: 177 ms).
 */
export const CONFIG_LIMITS = {
  peers: 2_000,
  /** `match.cidrs` of one peer. */
  cidrsPerPeer: 1_000,
  /** Every number pattern together: peers' allowed + presentation numbers, protected, do-not-originate, brands. */
  numbers: 50_000,
  protected: 10_000,
  doNotOriginate: 10_000,
  brands: 1_000,
  displayNamesPerBrand: 100,
  /** `sources.<sip|hep>.allowFrom`, `sources.hep.captureIds`, `server.tokens`. */
  listenerList: 1_000,
  /** `stirShaken.trustAnchors` files (each ≤ 1 MiB and ≤ 1,000 certificates). */
  trustAnchorFiles: 100,
} as const;

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function sizeErrors(data: unknown): string[] {
  const errors: string[] = [];
  const over = (v: unknown, path: string, max: number): boolean => {
    if (!Array.isArray(v) || v.length <= max) return false;
    errors.push(`${path}: ${v.length} entries, over the limit of ${max} (README "Config limits")`);
    return true;
  };
  const root = record(data);
  if (root === undefined) return errors;
  let numbers = 0;
  const count = (v: unknown): void => {
    if (Array.isArray(v)) numbers += v.length;
  };
  const peers = root['peers'];
  if (!over(peers, 'peers', CONFIG_LIMITS.peers) && Array.isArray(peers)) {
    peers.forEach((p, i) => {
      const peer = record(p);
      if (peer === undefined) return;
      over(record(peer['match'])?.['cidrs'], `peers[${i}].match.cidrs`, CONFIG_LIMITS.cidrsPerPeer);
      count(peer['allowedNumbers']);
      count(peer['presentationNumbers']);
    });
  }
  const lists = record(root['lists']);
  if (lists !== undefined) {
    over(lists['protected'], 'lists.protected', CONFIG_LIMITS.protected);
    over(lists['doNotOriginate'], 'lists.doNotOriginate', CONFIG_LIMITS.doNotOriginate);
    count(lists['protected']);
    count(lists['doNotOriginate']);
    const brands = lists['brands'];
    if (!over(brands, 'lists.brands', CONFIG_LIMITS.brands) && Array.isArray(brands)) {
      brands.forEach((b, i) => {
        const brand = record(b);
        if (brand === undefined) return;
        over(brand['displayNames'], `lists.brands[${i}].displayNames`, CONFIG_LIMITS.displayNamesPerBrand);
        count(brand['numbers']);
      });
    }
  }
  if (numbers > CONFIG_LIMITS.numbers) {
    errors.push(
      `(root): ${numbers} number entries (peers' allowedNumbers and presentationNumbers, lists, brands), over the limit of ${CONFIG_LIMITS.numbers} (README "Config limits"): use prefixes or ranges`,
    );
  }
  const sources = record(root['sources']);
  for (const name of ['sip', 'hep'] as const) {
    const l = record(sources?.[name]);
    over(l?.['allowFrom'], `sources.${name}.allowFrom`, CONFIG_LIMITS.listenerList);
    over(l?.['captureIds'], `sources.${name}.captureIds`, CONFIG_LIMITS.listenerList);
  }
  over(record(root['server'])?.['tokens'], 'server.tokens', CONFIG_LIMITS.listenerList);
  over(record(root['stirShaken'])?.['trustAnchors'], 'stirShaken.trustAnchors', CONFIG_LIMITS.trustAnchorFiles);
  return errors;
}

/** Checks that need more than one field. Paths refer to the file as written. */
function crossCheck(cfg: ConfigFile): string[] {
  const errors: string[] = [];
  const firstIndexByName = new Map<string, number>();
  cfg.peers.forEach((p, i) => {
    const first = firstIndexByName.get(p.name);
    if (first === undefined) firstIndexByName.set(p.name, i);
    else errors.push(`peers[${i}].name: duplicate peer name "${p.name}" (also peers[${first}])`);
  });
  // Two peers with the same address and the same constraints could never be told apart.
  const matchKeys = new Map<string, number>();
  cfg.peers.forEach((p, i) => {
    const t = p.match.transport === undefined ? '*' : [...p.match.transport].sort().join(',');
    p.match.cidrs.forEach((cidr, j) => {
      const key = `${cidr}|${p.match.port ?? '*'}|${t}|${p.match.hepCaptureId ?? '*'}|${p.match.sensorId ?? '*'}`;
      const other = matchKeys.get(key);
      if (other === undefined) matchKeys.set(key, i);
      else if (other !== i) {
        const otherName = cfg.peers[other]?.name ?? '';
        errors.push(
          `peers[${i}].match.cidrs[${j}]: "${cidr}" with the same port, transport, HEP capture id and sensor is already matched by peers[${other}] ("${otherName}")`,
        );
      }
    });
  });
  cfg.lists.protected.forEach((entry, i) => {
    entry.ownerPeers.forEach((name, j) => {
      if (!firstIndexByName.has(name)) errors.push(`lists.protected[${i}].ownerPeers[${j}]: no peer named "${name}"`);
    });
  });
  // A suppression naming no peer would suppress nothing; two thresholds of one rule would contradict each other.
  cfg.suppress.forEach((e, i) => {
    if (e.peer !== undefined && !firstIndexByName.has(e.peer)) errors.push(`suppress[${i}].peer: no peer named "${e.peer}"`);
  });
  const thresholdOf = new Map<string, number>();
  cfg.threshold.forEach((e, i) => {
    const first = thresholdOf.get(e.rule);
    if (first === undefined) thresholdOf.set(e.rule, i);
    else errors.push(`threshold[${i}].rule: ${e.rule} already has a threshold (threshold[${first}]); one per rule`);
  });
  if (!isLoopback(cfg.server.host) && cfg.server.tokens.length === 0) {
    errors.push(`server.tokens: required when server.host ("${cfg.server.host}") is not a loopback address`);
  }
  // A SIP/HEP listener reachable from the network takes traffic only from senders named in allowFrom: anyone who
  // can reach it could otherwise feed the alert record (spoofed alerts, or floods that hide real ones).
  for (const name of ['sip', 'hep'] as const) {
    const l = cfg.sources[name];
    if (l !== false && !isLoopback(l.host) && l.allowFrom === undefined) {
      errors.push(
        `sources.${name}.allowFrom: required when sources.${name}.host ("${l.host}") is not a loopback address: list the CIDRs that may send (e.g. [192.0.2.0/24]), or bind to 127.0.0.1`,
      );
    }
  }
  // Listeners that would fight over one socket.
  interface Bound {
    path: string;
    host: string;
    port: number;
    proto: 'udp' | 'tcp';
  }
  const bound: Bound[] = [];
  const addListener = (name: string, l: ListenerConfig | false) => {
    if (l === false || l.port === 0) return;
    if (l.udp) bound.push({ path: name, host: l.host, port: l.port, proto: 'udp' });
    if (l.tcp) bound.push({ path: name, host: l.host, port: l.port, proto: 'tcp' });
  };
  addListener('sources.sip', cfg.sources.sip);
  addListener('sources.hep', cfg.sources.hep);
  const ws = cfg.sources.sipWs;
  if (ws !== false && ws.port !== 0) bound.push({ path: 'sources.sipWs', host: ws.host, port: ws.port, proto: 'tcp' });
  if (cfg.server.port !== 0) bound.push({ path: 'server', host: cfg.server.host, port: cfg.server.port, proto: 'tcp' });
  const reported = new Set<string>();
  for (let a = 0; a < bound.length; a++) {
    for (let b = a + 1; b < bound.length; b++) {
      const x = bound[a]!;
      const y = bound[b]!;
      const sameHost = x.host === y.host || isWildcard(x.host) || isWildcard(y.host);
      if (x.path === y.path || x.proto !== y.proto || x.port !== y.port || !sameHost) continue;
      const key = `${y.path}|${x.path}`;
      if (reported.has(key)) continue;
      reported.add(key);
      errors.push(`${y.path}.port: ${y.port}/${y.proto} on ${y.host} is also used by ${x.path}`);
    }
  }
  return errors;
}

function buildConfig(f: ConfigFile): Config {
  const peers: PeerConfig[] = f.peers.map((p) => ({
    name: p.name,
    ...(p.description !== undefined ? { description: p.description } : {}),
    match: {
      cidrs: p.match.cidrs,
      ...(p.match.port !== undefined ? { port: p.match.port } : {}),
      ...(p.match.transport !== undefined ? { transport: p.match.transport } : {}),
      ...(p.match.hepCaptureId !== undefined ? { hepCaptureId: p.match.hepCaptureId } : {}),
      ...(p.match.sensorId !== undefined ? { sensorId: p.match.sensorId } : {}),
    },
    trust: p.trust,
    class: p.class,
    country: p.country ?? f.homeCountry,
    allowedNumbers: p.allowedNumbers,
    presentationNumbers: p.presentationNumbers,
    any: p.any,
  }));
  const rules: Record<string, RuleConfig> = {};
  for (const [id, r] of Object.entries(f.rules)) rules[id] = r;
  const sources: SourcesConfig = {
    ...(f.sources.sip !== false ? { sip: f.sources.sip } : {}),
    ...(f.sources.hep !== false ? { hep: f.sources.hep } : {}),
    ...(f.sources.watch !== false ? { watch: f.sources.watch } : {}),
    ...(f.sources.interface !== false ? { interface: f.sources.interface } : {}),
    ...(f.sources.sipWs !== false ? { sipWs: f.sources.sipWs } : {}),
  };
  return {
    homeCountry: f.homeCountry,
    rulePacks: f.rulePacks,
    peers,
    lists: f.lists,
    stirShaken: f.stirShaken,
    rules,
    sources,
    server: f.server,
    store: f.store,
    limits: f.limits,
    incidents: f.incidents,
    suppress: f.suppress,
    threshold: f.threshold,
    ...(f.cluster !== undefined ? { cluster: f.cluster } : {}),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Parses and validates config text. `fileName` decides JSON (`*.json`) or YAML and prefixes
 * syntax errors (`spoofwatch.yaml:12:3: …`); schema errors are `path: problem`, one per line.
 * An empty document is an empty config (all defaults, no peers).
 */
export function parseConfig(text: string, fileNameForMessages: string): ConfigResult {
  const doc = readDocument(text, fileNameForMessages);
  if (!doc.ok) return { ok: false, errors: doc.errors };
  const data = doc.data ?? {};
  const tooBig = sizeErrors(data);
  if (tooBig.length > 0) return { ok: false, errors: tooBig };
  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues, data) };
  const errors = crossCheck(parsed.data);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: deepFreeze(buildConfig(parsed.data)) };
}

/**
 * Reads and validates a config file (YAML, or JSON when the name ends in `.json`). Relative
 * file paths inside it (trust anchors, certificate cache, store, watched folder) are resolved
 * against the file's folder. The config file and every file it names are read as regular files with a
 * size limit (config 16 MiB, anchors and cached certificates 1 MiB each; see `readBoundedFile`), and the
 * STIR/SHAKEN material is loaded here, once — so `config check` reports whatever `analyze` or a SIGHUP
 * reload would trip on, each error naming the config path (`stirShaken.trustAnchors[0]: /dev/zero is a
 * character device, not a regular file`). The loaded material travels with the returned config object.
 */
export function loadConfig(path: string): ConfigResult {
  const read = readBoundedFile(path, CONFIG_FILE_LIMIT);
  if (read.kind === 'invalid') return { ok: false, errors: [`${path}: the config file ${read.reason}`] };
  const parsed = parseConfig(read.bytes.toString('utf8'), path);
  if (!parsed.ok) return parsed;
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const c = parsed.config;
  const resolved: Config = deepFreeze({
    ...c,
    stirShaken: {
      ...c.stirShaken,
      trustAnchors: c.stirShaken.trustAnchors.map(abs),
      ...(c.stirShaken.certCacheDir !== undefined ? { certCacheDir: abs(c.stirShaken.certCacheDir) } : {}),
    },
    lists: { ...c.lists, doNotOriginateFiles: c.lists.doNotOriginateFiles.map(abs) },
    store: { ...c.store, path: abs(c.store.path) },
    sources: {
      ...c.sources,
      ...(c.sources.watch !== undefined ? { watch: { ...c.sources.watch, dir: abs(c.sources.watch.dir) } } : {}),
    },
  });
  const material = loadTrustMaterial(resolved.stirShaken);
  if (material.kind === 'invalid') return { ok: false, errors: material.errors };
  rememberTrustMaterial(resolved.stirShaken, material.value);
  return { ok: true, config: resolved };
}

let cachedDefault: Config | undefined;

/** The embedded lab config (`DEFAULT_CONFIG_YAML`), parsed once. */
export function defaultConfig(): Config {
  if (cachedDefault === undefined) {
    const r = parseConfig(DEFAULT_CONFIG_YAML, 'default config');
    if (!r.ok) throw new SpoofwatchError('CONFIG_DEFAULT_INVALID', r.errors.join('\n'));
    cachedDefault = r.config;
  }
  return cachedDefault;
}

/** Settings of one rule: its override from the config, or enabled with no parameters. */
export function ruleSettings(config: Config, ruleId: string): RuleConfig {
  return config.rules[ruleId] ?? DEFAULT_RULE;
}

const DEFAULT_RULE: RuleConfig = Object.freeze({ enabled: true, params: Object.freeze({}) });

/** A numeric rule parameter, or `fallback` when absent or not a number. */
export function numberParam(settings: RuleConfig, key: string, fallback: number): number {
  const v = settings.params[key];
  return typeof v === 'number' ? v : fallback;
}
