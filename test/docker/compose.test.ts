/**
 * Issue #20: every docker-compose.yml service's command is valid for its image's ENTRYPOINT, checked without a
 * container engine: argv = the Dockerfile stage's ENTRYPOINT (or the service's `entrypoint:`) + `command:` (or the
 * stage's CMD). For the spoofwatch image the same argv runs through dist/cli.js: its first word must be a
 * spoofwatch command and every option must be one that command's `--help` lists; paths under /app must exist in
 * the build context (the image copies them to /app) and the daemon's config must pass `config check`. Shell
 * entrypoints are syntax-checked with `sh -n`. `docker compose config` / `docker-compose config` run where
 * Compose v2 is installed (skipped with a note when absent: no container engine or Compose runs here).
 * The `cluster` profile (issue #22): the `nats:2.9.10` services' argv passes the local nats-server's own flag
 * parser (`nats-server -t ARGV` gets as far as asking for a config file), routes and names form one cluster, and
 * every spoofwatch config mounted from deploy/cluster/ passes `config check` and names those NATS nodes.
 * Needs `npm run build` (dist/cli.js); the NATS checks need nats-server (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');

interface Stage {
  entrypoint?: string[];
  cmd?: string[];
  workdir?: string;
}

/** Stages of the Dockerfile with their exec-form ENTRYPOINT, CMD and WORKDIR (a later one replaces an earlier one). */
function dockerfileStages(text: string): Map<string, Stage> {
  const stages = new Map<string, Stage>();
  let current: Stage | undefined;
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = {};
      stages.set(from[1] ?? `stage${stages.size}`, current);
      continue;
    }
    const m = /^(ENTRYPOINT|CMD|WORKDIR)\s+(.*)$/i.exec(line.trim());
    if (!m || !current) continue;
    const kind = m[1]!.toUpperCase();
    if (kind === 'WORKDIR') current.workdir = m[2]!.trim();
    else current[kind === 'CMD' ? 'cmd' : 'entrypoint'] = JSON.parse(m[2]!) as string[];
  }
  return stages;
}

interface Service {
  build?: { target?: string };
  image?: string;
  entrypoint?: string[] | string;
  command?: string[] | string;
  volumes?: string[];
  profiles?: string[];
  network_mode?: string;
  depends_on?: string[] | Record<string, unknown>;
}

/** The NATS image the cluster profile runs (Debian's nats-server version, the one the tests start). */
const NATS_IMAGE = 'nats:2.9.10';
/** Its ENTRYPOINT: the server binary (the image's CMD, `--config nats-server.conf`, is replaced by `command:`). */
const NATS_ENTRYPOINT = ['nats-server'];

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const stages = dockerfileStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
/** image name → the stage that builds it (services that only name an image use another service's build). */
const imageStage = new Map<string, string>();
for (const s of Object.values(compose.services)) if (s.image && s.build?.target) imageStage.set(s.image, s.build.target);

const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
const topCommands = [...cli(['--help']).stdout.matchAll(/^ {2}([a-z][a-z-]*)(?: \[options\])?(?: <[^>]+>)?\s/gm)].map((m) => m[1]!);

/** The argv a container of this service runs. */
function argvOf(name: string, s: Service): { argv: string[]; stage: string } {
  if (s.image === NATS_IMAGE) return { argv: [...NATS_ENTRYPOINT, ...((s.command as string[] | undefined) ?? [])], stage: 'nats' };
  const stage = s.build?.target ?? (s.image ? imageStage.get(s.image) : undefined);
  if (stage === undefined || !stages.has(stage)) throw new Error(`${name}: no Dockerfile stage for image ${s.image}`);
  const st = stages.get(stage)!;
  const list = (v: string[] | string | undefined): string[] | undefined => (v === undefined ? undefined : typeof v === 'string' ? v.split(/\s+/) : v);
  // Compose: an entrypoint: in the service replaces the image's ENTRYPOINT and drops its CMD.
  const entry = list(s.entrypoint) ?? st.entrypoint ?? [];
  const command = list(s.command) ?? (s.entrypoint === undefined ? st.cmd : undefined) ?? [];
  return { argv: [...entry, ...command], stage };
}

/** `host:container` bind mounts of a service (relative host paths, as the file writes them). */
function bindMounts(s: Service): [string, string][] {
  return (s.volumes ?? []).flatMap((v) => {
    const [from, to] = v.split(':');
    return from !== undefined && to !== undefined && from.startsWith('./') ? [[from.slice(2), to] as [string, string]] : [];
  });
}

const HAVE_NATS = spawnSync('sh', ['-c', 'command -v nats-server']).status === 0;
/** What `nats-server -t` says once every flag parsed and only the (absent) config file is left to test. */
const NATS_FLAGS_PARSED = 'nats-server: must specify [-c, --config] option to check configuration file syntax';

/**
 * The argv through nats-server's own flag parser (the local binary is the image's version): an unknown flag
 * prints usage, a stray word "unrecognized command"; a valid argv reaches the config-file check that `-t` asks for.
 */
function natsArgvParses(name: string, args: string[]): void {
  if (!HAVE_NATS) throw new Error('nats-server is not installed: apt-get install nats-server (.ci/run installs it)');
  const r = spawnSync('nats-server', ['-t', ...args], { encoding: 'utf8', timeout: 10_000 });
  expect((r.stdout + r.stderr).trim(), `${name}: nats-server ${args.join(' ')}`).toBe(NATS_FLAGS_PARSED);
}

/** The value after a flag in an argv. */
const flag = (argv: string[], f: string): string | undefined => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};

describe('docker-compose.yml services against the Dockerfile entrypoints', () => {
  it('finds the stages and the spoofwatch commands', () => {
    expect(stages.get('runtime')?.entrypoint).toEqual(['node', '--max-semi-space-size=8', '--initial-old-space-size=96', 'dist/cli.js']);
    expect(stages.get('sipp')?.entrypoint).toEqual(['sipp']);
    expect(topCommands).toEqual(expect.arrayContaining(['analyze', 'daemon', 'tail', 'hep-send', 'config']));
    expect(Object.keys(compose.services).filter((n) => !compose.services[n]!.profiles).sort()).toEqual(['hep-sender', 'hep-sender-tcp', 'sipp-tcp', 'sipp-udp', 'spoofwatch', 'tail']);
    expect(Object.keys(compose.services).filter((n) => compose.services[n]!.profiles?.includes('cluster')).sort()).toEqual([
      'cluster-sipp-1', 'cluster-sipp-2', 'cluster-tail', 'correlator', 'gateway', 'nats-1', 'nats-2', 'nats-3', 'sensor-1', 'sensor-2',
    ]);
  });

  for (const [name, service] of Object.entries(compose.services)) {
    it(`${name}: its argv is valid for its image`, () => {
      const { argv, stage } = argvOf(name, service);
      const runtime = stages.get('runtime')!.entrypoint!;
      if (argv.slice(0, runtime.length).join(' ') === runtime.join(' ')) {
        const args = argv.slice(runtime.length);
        const command = args[0]!;
        expect(topCommands, `${name}: "${command}" is not a spoofwatch command (argv ${argv.join(' ')})`).toContain(command);
        const help = cli([command, '--help']);
        expect(help.status, help.stderr).toBe(0);
        const known = new Set([...help.stdout.matchAll(/(?:^|\s|,)(--?[a-z][a-z-]*)/gm)].map((m) => m[1]!));
        for (const a of args.slice(1)) if (a.startsWith('-')) expect(known, `${name}: ${command} has no option ${a}`).toContain(a);
        // Paths the command names inside the container: /app/… and relative to WORKDIR /app come from the build
        // context; others from the service's bind mounts (./deploy/cluster:/etc/spoofwatch).
        const workdir = stages.get(stage)!.workdir ?? '/';
        const hostPath = (a: string): string | undefined => {
          if (a.startsWith('/app/')) return a.slice(5);
          if (!a.startsWith('/')) return workdir === '/app' ? a : undefined;
          for (const [from, to] of bindMounts(service)) if (a.startsWith(`${to}/`)) return join(from, a.slice(to.length + 1));
          return undefined;
        };
        for (const a of args.slice(1)) {
          if (!/\.(ya?ml|json|pcapng?|gz)$/.test(a)) continue;
          const inContext = hostPath(a);
          if (inContext === undefined) continue;
          expect(existsSync(join(ROOT, inContext)), `${name}: ${a} is not in the image or a mount`).toBe(true);
        }
        const cfg = args.indexOf('--config');
        if (cfg >= 0) {
          const file = hostPath(args[cfg + 1]!);
          expect(file, `${name}: its --config is neither in the image nor mounted`).toBeDefined();
          const r = cli(['config', 'check', join(ROOT, file!)]);
          expect(r.status, `${name}: config check ${file}: ${r.stderr}`).toBe(0);
        }
      } else if (argv[0] === NATS_ENTRYPOINT[0]) {
        natsArgvParses(name, argv.slice(1));
      } else if (argv[0] === '/bin/sh' && argv[1] === '-c') {
        // Compose turns $$ into $ before the shell sees the script.
        const script = argv.slice(2).join(' ').replace(/\$\$/g, '$');
        const r = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
        expect(r.status, `${name}: ${r.stderr}`).toBe(0);
        expect(script).toMatch(/\bsipp -sf \/scenario\/xml\/\$id\.xml /);
      } else {
        throw new Error(`${name}: unexpected argv ${argv.join(' ')}`);
      }
    });
  }

  it('the argv a broken hep-sender had (node dist/cli.js after the ENTRYPOINT) is refused by the same check', () => {
    expect(topCommands).not.toContain('node');
    expect(cli(['node', 'dist/cli.js', 'hep-send', 'x']).stderr).toContain("unknown command 'node'");
  });

  const composeBin = [
    ['docker', 'compose'],
    ['docker-compose'],
  ].find((c) => {
    // Compose v1 (Debian bookworm's docker-compose 1.29) rejects the top-level name: by design; v2 is required.
    const r = spawnSync(c[0]!, [...c.slice(1), 'version', '--short'], { encoding: 'utf8' });
    return r.status === 0 && /^v?([2-9]|\d{2,})\./.test(r.stdout.trim());
  });
  if (composeBin === undefined) console.warn('no Compose v2 here: `docker compose config` skipped (Debian trixie: apt-get install docker-compose; or the docker-compose-plugin)');
  it.skipIf(composeBin === undefined)('docker compose config accepts the file (Compose v2 only)', () => {
    const [bin, ...pre] = composeBin!;
    const r = spawnSync(bin!, [...pre, '-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('docker-compose.yml profile "cluster" (issue #22, docs/cluster.md)', () => {
  const services = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('cluster'));
  const nats = services.filter(([, s]) => s.image === NATS_IMAGE);
  const spoofwatch = services.filter(([, s]) => s.image === 'spoofwatch:local' && (s.command as string[])[0] === 'daemon');

  it('three NATS nodes with JetStream that route to one another as one named cluster', () => {
    expect(nats.map(([n]) => n)).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const [name, s] of nats) {
      const argv = s.command as string[];
      expect(argv).toContain('-js');
      expect(flag(argv, '-n'), `${name}: server name`).toBe(name);
      expect(flag(argv, '--cluster_name')).toBe('spoofwatch');
      expect(flag(argv, '--cluster')).toBe('nats://0.0.0.0:6222');
      const routes = flag(argv, '--routes')!.split(',').sort();
      expect(routes, `${name}: routes to the two others`).toEqual(nats.filter(([n]) => n !== name).map(([n]) => `nats://${n}:6222`));
      // The JetStream store is a named volume, so a restarted node keeps its replicas.
      expect(s.volumes).toEqual([`${name}-data:${flag(argv, '-sd')}`]);
    }
  });

  it.runIf(HAVE_NATS)('the NATS argv check refuses what nats-server refuses', () => {
    expect(() => natsArgvParses('bad', ['-js', '--jetstream_domain', 'x'])).toThrow();
    expect(() => natsArgvParses('bad', ['-js', '--routes', 'nats://a:6222', 'nats://b:6222'])).toThrow();
  });

  it('two sensors, one correlator and one gateway, each with its config from deploy/cluster/', () => {
    const roles = spoofwatch.map(([name, s]) => {
      const file = flag(s.command as string[], '--config')!;
      const [from, to] = bindMounts(s).find(([, t]) => file.startsWith(`${t}/`))!;
      const cfg = parse(readFileSync(join(ROOT, from, file.slice(to.length + 1)), 'utf8')) as { cluster: { nats: { servers: string[] }; role: string[]; sensorId?: string; shards: number } };
      expect(cfg.cluster.nats.servers, `${name}: NATS servers`).toEqual(nats.map(([n]) => `nats://${n}:4222`));
      expect(cfg.cluster.shards).toBe(16);
      // The config folder is mounted read-only: the store and the watched folder must not default next to it.
      expect(flag(s.command as string[], '--store'), `${name}: --store`).toMatch(/^\/data\/[a-z-]+\.db$/);
      expect(flag(s.command as string[], '--watch'), `${name}: --watch`).toBe('/data/inbox');
      return [name, cfg.cluster.role.join(','), cfg.cluster.sensorId];
    });
    expect(roles).toEqual([
      ['sensor-1', 'sensor', 'sensor-1'],
      ['sensor-2', 'sensor', 'sensor-2'],
      ['correlator', 'correlator', undefined],
      ['gateway', 'gateway', undefined],
    ]);
  });

  it("the configs' network (homeCountry, peers, lists) is the scenario lab's", () => {
    const scenario = parse(readFileSync(join(ROOT, 'captures/scenario/spoofwatch.yaml'), 'utf8')) as Record<string, unknown>;
    for (const [name, s] of spoofwatch) {
      const file = flag(s.command as string[], '--config')!.replace('/etc/spoofwatch/', 'deploy/cluster/');
      const { cluster: _cluster, ...network } = parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
      expect(network, `${name}: ${file}`).toEqual(scenario);
    }
  });

  it("the SIPp players split the scenario's calls between the sensors: each call once, sc01 on sensor 1, sc23 on sensor 2", () => {
    const plan = readFileSync(join(ROOT, 'captures/scenario/xml/plan.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]!);
    const played = new Map<string, string[]>();
    for (const [name, s] of services.filter(([n]) => n.startsWith('cluster-sipp-'))) {
      const m = /sed -n (\d+),(\d+)p \/scenario\/xml\/plan\.txt/.exec((s.command as string[]).join(' '));
      expect(m, `${name}: plays a range of plan.txt`).not.toBeNull();
      played.set(s.network_mode!.replace('service:', ''), plan.slice(Number(m![1]) - 1, Number(m![2])));
    }
    expect([...played.values()].flat()).toEqual(plan);
    expect(played.get('sensor-1')).toContain('sc01');
    expect(played.get('sensor-2')).toContain('sc23');
    expect(Object.keys(compose.services['cluster-sipp-2']!.depends_on as Record<string, unknown>)).toContain('cluster-sipp-1');
  });
});
