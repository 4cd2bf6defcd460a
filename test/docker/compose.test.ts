/**
 * Issue #20: every docker-compose.yml service's command is valid for its image's ENTRYPOINT, checked without a
 * container engine: argv = the Dockerfile stage's ENTRYPOINT (or the service's `entrypoint:`) + `command:` (or the
 * stage's CMD). For the spoofwatch image the same argv runs through dist/cli.js: its first word must be a
 * spoofwatch command and every option must be one that command's `--help` lists; paths under /app must exist in
 * the build context (the image copies them to /app) and the daemon's config must pass `config check`. Shell
 * entrypoints are syntax-checked with `sh -n`. `docker compose config` / `docker-compose config` run where
 * Compose v2 is installed (skipped with a note when absent: no container engine or Compose runs here).
 * Needs `npm run build` (dist/cli.js).
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
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const stages = dockerfileStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
/** image name → the stage that builds it (services that only name an image use another service's build). */
const imageStage = new Map<string, string>();
for (const s of Object.values(compose.services)) if (s.image && s.build?.target) imageStage.set(s.image, s.build.target);

const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
const topCommands = [...cli(['--help']).stdout.matchAll(/^ {2}([a-z][a-z-]*)(?: \[options\])?(?: <[^>]+>)?\s/gm)].map((m) => m[1]!);

/** The argv a container of this service runs. */
function argvOf(name: string, s: Service): { argv: string[]; stage: string } {
  const stage = s.build?.target ?? (s.image ? imageStage.get(s.image) : undefined);
  if (stage === undefined || !stages.has(stage)) throw new Error(`${name}: no Dockerfile stage for image ${s.image}`);
  const st = stages.get(stage)!;
  const list = (v: string[] | string | undefined): string[] | undefined => (v === undefined ? undefined : typeof v === 'string' ? v.split(/\s+/) : v);
  // Compose: an entrypoint: in the service replaces the image's ENTRYPOINT and drops its CMD.
  const entry = list(s.entrypoint) ?? st.entrypoint ?? [];
  const command = list(s.command) ?? (s.entrypoint === undefined ? st.cmd : undefined) ?? [];
  return { argv: [...entry, ...command], stage };
}

describe('docker-compose.yml services against the Dockerfile entrypoints', () => {
  it('finds the stages and the spoofwatch commands', () => {
    expect(stages.get('runtime')?.entrypoint).toEqual(['node', '--max-semi-space-size=8', '--initial-old-space-size=96', 'dist/cli.js']);
    expect(stages.get('sipp')?.entrypoint).toEqual(['sipp']);
    expect(topCommands).toEqual(expect.arrayContaining(['analyze', 'daemon', 'tail', 'hep-send', 'config']));
    expect(Object.keys(compose.services).sort()).toEqual(['hep-sender', 'hep-sender-tcp', 'sipp-tcp', 'sipp-udp', 'spoofwatch', 'tail']);
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
        // Paths the command names inside the image: /app/… and relative to WORKDIR /app come from the build context.
        const workdir = stages.get(stage)!.workdir ?? '/';
        for (const a of args.slice(1)) {
          if (!/\.(ya?ml|json|pcapng?|gz)$/.test(a)) continue;
          const inContext = a.startsWith('/app/') ? a.slice(5) : a.startsWith('/') ? undefined : workdir === '/app' ? a : undefined;
          if (inContext === undefined) continue;
          expect(existsSync(join(ROOT, inContext)), `${name}: ${a} is not in the image`).toBe(true);
        }
        const cfg = args.indexOf('--config');
        if (cfg >= 0) {
          const r = cli(['config', 'check', join(ROOT, args[cfg + 1]!.replace(/^\/app\//, ''))]);
          expect(r.status, r.stderr).toBe(0);
        }
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
