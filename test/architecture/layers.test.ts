/**
 * Stage boundaries (DESIGN.md §3 "Layer rule", §4): each stage imports only from stages to its left and from shared
 * leaf modules; nothing imports pipeline/, daemon/ or commands/ but the entry points that wire the stages. This reads
 * the import statements of every src/**\/*.ts and fails on an upward import that is not listed below with its reason.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/**
 * Layer ranks, left (low) to right (high), by the first path segment under src/ (a file directly in src/ by its name).
 * A file may import from its own rank or lower. Sources are the leftmost stage (they hand Frames and Datagrams on).
 */
const RANK: Readonly<Record<string, number>> = {
  types: 0,
  anomalies: 0,
  util: 0,
  heap: 0,
  sources: 1,
  decode: 2,
  sip: 3,
  identity: 4,
  // Config is read once at the edge (§8.5); it validates with the identity parsers. Any layer may import its *types*
  // (the config slice it is given), see TYPE_ONLY_ANYWHERE.
  config: 4.5,
  correlate: 5,
  rules: 6,
  alerts: 7,
  // Incidents group alerts (issue #19); the sinks store and stream them.
  incidents: 7.5,
  evidence: 8,
  sinks: 8,
  http: 8,
  web: 8,
  pipeline: 9,
  // The scale-out roles (issue #22) wire the pipeline to NATS JetStream; the daemon starts them.
  cluster: 9.5,
  daemon: 10,
  commands: 10,
  cli: 11,
};

/** Layers whose types (`import type`) any layer may use: the config slices modules receive (DESIGN.md §8.5). */
const TYPE_ONLY_ANYWHERE: ReadonlySet<string> = new Set(['config']);

/** Upward imports that are legitimate, `from -> to` (paths under src/), each with its reason. */
const ALLOWED: Readonly<Record<string, string>> = {
  'sources/listeners.ts -> decode/hep.ts':
    'a HEP listener frames HEP over TCP and checks the agent (auth key, capture id) before anything is handed on',
  'sources/listeners.ts -> decode/address-text.ts': 'endpoint text of socket peers, cached the way the decoder caches it',
  'sources/listeners.ts -> identity/ip.ts': 'allowFrom CIDR matching at the socket (a pure address parser)',
  'sources/source.ts -> decode/limits.ts': "folding the decoder's bounded not-decoded reasons into a source's counters",
  'correlate/facts.ts -> rules/types.ts': 'type only: CallFacts, the correlate → rules contract, is defined beside the rules that read it',
  'correlate/policy.ts -> rules/types.ts': 'type only: Policy and PeerFacts, the correlate → rules contract',
  'correlate/shaken.ts -> rules/types.ts': 'type only: ShakenOutcome, a fact the rules read',
  'rules/types.ts -> alerts/alert.ts': 'type only: the severity scale and evidence shape findings share with alerts',
  'rules/shaken-failure.ts -> alerts/alert.ts': 'type only: Severity',
  'config/types.ts -> alerts/alert.ts': 'type only: Severity in rule overrides',
  'config/schema.ts -> alerts/alert.ts': 'SEVERITIES, to validate severity overrides',
  'config/schema.ts -> rules/registry.ts': 'strict config (issue #20): rule ids are checked against the registry, with a did-you-mean',
  'correlate/policy.ts -> alerts/alert.ts': "type only: Severity of a rule pack's cited rules",
  'identity/packs/types.ts -> alerts/alert.ts': "type only: Severity of a rule pack's cited rules",
  'sources/source.ts -> decode/hep.ts': 'type only: HepPacket, which a HEP TCP listener frames and hands to its sink',
};

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every relative import/export-from/dynamic import of `text` (a file at `file`, path under src/). */
export function importsOf(file: string, text: string): Edge[] {
  const out: Edge[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const to = relative(SRC, resolve(dirname(join(SRC, file)), spec)).replace(/\.js$/, '.ts');
    out.push({ from: file, to, typeOnly: m[2] !== undefined });
  }
  return out;
}

const layerOf = (path: string): string => {
  const parts = path.split('/');
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
};

/** The imports that break the layer rule and are not in `allowed`. */
export function violations(edges: readonly Edge[], allowed: Readonly<Record<string, string>> = ALLOWED): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const lf = layerOf(e.from);
    const lt = layerOf(e.to);
    const rf = RANK[lf];
    const rt = RANK[lt];
    if (rf === undefined) {
      out.push(`${e.from}: layer '${lf}' has no rank in test/architecture/layers.test.ts`);
      continue;
    }
    if (rt === undefined) {
      out.push(`${e.from} -> ${e.to}: layer '${lt}' has no rank`);
      continue;
    }
    if (rt <= rf) continue;
    if (e.typeOnly && TYPE_ONLY_ANYWHERE.has(lt)) continue;
    if (allowed[`${e.from} -> ${e.to}`] !== undefined) continue;
    out.push(`${e.from} -> ${e.to} (${lf} imports ${lt}, a later stage)`);
  }
  return out;
}

const edges = tsFiles(SRC).flatMap((f) => importsOf(relative(SRC, f), readFileSync(f, 'utf8')));

describe('stage boundaries', () => {
  it('the import scan sees the imports (sanity: known edges are found)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'pipeline/ingest.ts', to: 'sip/index.ts', typeOnly: false });
    expect(edges).toContainEqual({ from: 'cli.ts', to: 'commands/hep-send.ts', typeOnly: false });
  });

  it('no file under src/sources/ imports from src/pipeline/', () => {
    expect(edges.filter((e) => e.from.startsWith('sources/') && e.to.startsWith('pipeline/')).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('the benchmark is not part of src/ (issue #18.5: bench/ has its own tsconfig, dist/ and the image never hold it)', () => {
    expect(existsSync(join(SRC, 'bench'))).toBe(false);
    expect(edges.filter((e) => e.to.startsWith('..')).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('no file imports upward across the layers, except the listed ones', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('every listed exception still exists (the list does not outlive the code)', () => {
    const present = new Set(edges.map((e) => `${e.from} -> ${e.to}`));
    expect(Object.keys(ALLOWED).filter((k) => !present.has(k))).toEqual([]);
  });

  it('flags an upward import, a pipeline import from a source and an unranked layer', () => {
    const fake = [
      ...importsOf('sources/x.ts', "import { Ingest } from '../pipeline/ingest.js';\n"),
      ...importsOf('decode/y.ts', "import type { SipMessage } from '../sip/message.js';\n"),
      ...importsOf('rules/z.ts', "export { a } from '../alerts/alert.js';\nconst m = await import('../daemon/daemon.js');\n"),
      ...importsOf('sip/w.ts', "import type { Config } from '../config/index.js';\nimport { x } from '../anomalies.js';\n"),
      ...importsOf('newlayer/v.ts', "import { y } from '../types.js';\n"),
    ];
    expect(violations(fake, {})).toEqual([
      'sources/x.ts -> pipeline/ingest.ts (sources imports pipeline, a later stage)',
      'decode/y.ts -> sip/message.ts (decode imports sip, a later stage)',
      'rules/z.ts -> alerts/alert.ts (rules imports alerts, a later stage)',
      'rules/z.ts -> daemon/daemon.ts (rules imports daemon, a later stage)',
      "newlayer/v.ts: layer 'newlayer' has no rank in test/architecture/layers.test.ts",
    ]);
  });
});
