/** Human summary of a validated config, printed by `spoofwatch config check`. */
import { DnoFiles } from '../identity/dno-file.js';
import { packForCountry } from '../identity/packs/index.js';
import type { Config, HepListenerConfig, ListenerConfig } from './types.js';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function listener(l: ListenerConfig): string {
  const protos = [l.udp ? 'udp' : '', l.tcp ? 'tcp' : ''].filter((s) => s !== '').join('+');
  const hep = l as HepListenerConfig;
  const only = [
    l.allowFrom !== undefined ? `from ${l.allowFrom.join(' ')}` : '',
    hep.captureIds !== undefined ? `capture ids ${hep.captureIds.join(',')}` : '',
    hep.authKey !== undefined ? 'auth key' : '',
  ].filter((x) => x !== '');
  const host = l.host.includes(':') ? `[${l.host}]` : l.host;
  return `${protos || 'no transport'} ${host}:${l.port}${only.length > 0 ? ` (only ${only.join(', ')})` : ''}`;
}

/** The active country rule packs: the home country's first, then `rulePacks` (src/identity/packs). */
function activePacksText(config: Config): string {
  const parts = [...new Set([config.homeCountry, ...config.rulePacks])].map((c) => {
    const pack = packForCountry(c);
    const home = c === config.homeCountry ? ' (home)' : '';
    return pack ? `${c}${home} ${pack.name}` : `${c}${home} without a pack: generic rules`;
  });
  return parts.join(', ');
}

/** A few lines per section; stable text (tests pin it). */
export function describeConfig(config: Config): string {
  const lines: string[] = [];
  lines.push(`home country: ${config.homeCountry}`);
  lines.push(`rule packs: ${activePacksText(config)}`);
  lines.push(`peers: ${config.peers.length}`);
  const nameWidth = Math.max(0, ...config.peers.map((p) => p.name.length));
  for (const p of config.peers) {
    const constraints = [
      p.match.port !== undefined ? `port ${p.match.port}` : '',
      p.match.transport !== undefined ? p.match.transport.join(',') : '',
      p.match.hepCaptureId !== undefined ? `hep ${p.match.hepCaptureId}` : '',
      p.match.sensorId !== undefined ? `sensor ${p.match.sensorId}` : '',
    ].filter((s) => s !== '');
    const numbers = p.any
      ? 'any number'
      : `${plural(p.allowedNumbers.length, 'allowed entry', 'allowed entries')}, ${plural(p.presentationNumbers.length, 'presentation entry', 'presentation entries')}`;
    lines.push(
      `  ${p.name.padEnd(nameWidth)}  ${p.trust.padEnd(9)} ${p.class.padEnd(13)} ${p.country}  ${p.match.cidrs.join(' ')}` +
        `${constraints.length > 0 ? ` (${constraints.join(', ')})` : ''}  ${numbers}`,
    );
  }
  const l = config.lists;
  lines.push(
    `lists: ${plural(l.protected.length, 'protected number')}, ${plural(l.doNotOriginate.length, 'do-not-originate number')}, ${plural(l.brands.length, 'brand')}`,
  );
  if (l.doNotOriginateFiles.length > 0) {
    // Read them now, as the daemon will: `config check` is where a bad line should show up first.
    const dno = new DnoFiles(l.doNotOriginateFiles);
    for (const r of dno.load()) {
      if (r.readError !== undefined) {
        lines.push(`  do-not-originate file ${r.file}: NOT READ (${r.readError.slice(r.file.length + 2)})`);
        continue;
      }
      lines.push(`  do-not-originate file ${r.file}: ${plural(r.entries, 'entry', 'entries')}${r.badLines > 0 ? `, ${plural(r.badLines, 'bad line')} skipped` : ''}`);
      for (const e of r.errors.slice(0, 10)) lines.push(`    ${e}`);
      if (r.badLines > 10) lines.push(`    … ${r.badLines - 10} more`);
    }
  }
  const s = config.stirShaken;
  lines.push(
    `stir/shaken: ${plural(s.trustAnchors.length, 'trust anchor')}, certificate cache ${s.certCacheDir ?? '(none)'}, freshness ${s.freshnessSeconds} s`,
  );
  const ruleIds = Object.keys(config.rules).sort();
  if (ruleIds.length === 0) lines.push('rules: all enabled with default settings');
  else {
    const parts = ruleIds.map((id) => {
      const r = config.rules[id]!;
      if (!r.enabled) return `${id} disabled`;
      const bits = [r.severity ?? '', ...Object.entries(r.params).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`)];
      return `${id} ${bits.filter((b) => b !== '').join(' ')}`.trimEnd();
    });
    lines.push(`rules: ${parts.join('; ')}`);
  }
  const sup = config.suppress ?? [];
  if (sup.length > 0) {
    lines.push(`suppress: ${plural(sup.length, 'entry', 'entries')} (stored, marked suppressed, not streamed)`);
    for (const e of sup) {
      const what = [e.peer !== undefined ? `peer ${e.peer}` : '', e.src !== undefined ? `src ${e.src}` : '', e.number !== undefined ? `number ${e.number}` : ''].filter((x) => x !== '');
      lines.push(`  ${e.rule}${what.length > 0 ? ` ${what.join(', ')}` : ' (every alert)'}${e.expires !== undefined ? ` until ${e.expires}` : ''}`);
    }
  }
  const th = config.threshold ?? [];
  if (th.length > 0) {
    lines.push(`threshold: ${plural(th.length, 'entry', 'entries')} (streamed from the count-th alert in the window)`);
    for (const t of th) lines.push(`  ${t.rule} ${t.track}: ${t.count} in ${t.seconds} s`);
  }
  const src = config.sources;
  const sources = [
    src.sip !== undefined ? `sip ${listener(src.sip)}` : '',
    src.hep !== undefined ? `hep ${listener(src.hep)}` : '',
    src.sipWs !== undefined ? `sip-ws ${src.sipWs.host.includes(':') ? `[${src.sipWs.host}]` : src.sipWs.host}:${src.sipWs.port}${src.sipWs.path ?? ''}` : '',
    src.watch !== undefined ? `watch ${src.watch.dir}` : '',
    src.interface !== undefined
      ? `interface ${src.interface.name}${src.interface.filter !== undefined ? ` (${src.interface.filter})` : ''}`
      : '',
  ].filter((x) => x !== '');
  lines.push(`sources: ${sources.length > 0 ? sources.join('; ') : 'none'}`);
  const srv = config.server;
  lines.push(
    `server: http://${srv.host.includes(':') ? `[${srv.host}]` : srv.host}:${srv.port} (${srv.tokens.length === 0 ? 'no tokens: loopback only' : plural(srv.tokens.length, 'token')})`,
  );
  lines.push(`store: ${config.store.path} (retention ${config.store.retentionDays} days, at most ${config.store.maxAlerts} alerts)`);
  return lines.join('\n');
}
