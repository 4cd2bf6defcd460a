/**
 * `spoofwatch config init --from CAPTURE…`: a starting config learned from traffic (issue #20).
 *
 * One peer per source address that sent SIP, with the transports and source ports it used and the numbers it
 * presented in From and P-Asserted-Identity (RFC 3325 §9.1) of initial INVITEs, summarised into ranges with counts.
 * Every peer is `trust: untrusted` with a guessed class and every learned entry is marked "observed — review before
 * trusting": traffic shows what was sent, never what was allowed.
 *
 * Learning from spoofed traffic must never whitelist it: the same input runs through the analyzer with the default
 * rules (and the lists of the config given), and a call that raised a finding of medium severity or above is not
 * learned from; the number such a finding names is left out for that source and listed as a comment. Only findings
 * about the missing peer configuration itself (SRC-UNKNOWN-PEER, HDR-PAI-UNTRUSTED) do not count.
 */
import { severityRank, type Alert } from '../alerts/alert.js';
import type { Config } from '../config/index.js';
import { CONFIG_LIMITS } from '../config/load.js';
import { buildFacts, NO_SHAKEN } from '../correlate/facts.js';
import { Analyzer } from '../pipeline/analyzer.js';
import type { Num } from '../rules/types.js';
import { runFiles, type AnalyzeReport } from './analyze.js';

/** The mark on every learned peer (its description) and entry: `analyze` recognises learned configs by it. */
export const LEARNED_MARK = 'observed — review before trusting';

/** Findings about the peer configuration the learned file is to supply: they do not disqualify a number. */
const CONFIG_FINDINGS: ReadonlySet<string> = new Set(['SRC-UNKNOWN-PEER', 'HDR-PAI-UNTRUSTED']);

/** Calls remembered for learning (~200 bytes each); beyond it calls are counted, not learned (memory stays bounded). */
const MAX_CALLS = 200_000;
/** Source addresses tracked; traffic from more (a capture of spoofed source addresses) is counted, not learned. */
const MAX_SOURCES = 20_000;
/** Distinct numbers remembered per source; more are counted. */
const MAX_NUMBERS_PER_SOURCE = 100_000;
/** Distinct source ports listed per peer; more are counted. */
const MAX_PORTS = 8;
/** Entries per peer before numbers are summarised by shorter prefixes. */
const MAX_ENTRIES = 12;

interface SourceSeen {
  readonly ip: string;
  readonly transports: Set<string>;
  readonly ports: Set<number>;
  morePorts: boolean;
  messages: number;
  calls: number;
  /** Learned E.164 number → calls presenting it. */
  readonly numbers: Map<string, number>;
  /** Left-out number text → rules that flagged it, and calls. */
  readonly flagged: Map<string, { rules: Set<string>; calls: number }>;
  /** Calls that taught nothing (withheld, alphanumeric, non-numbers). */
  callsWithoutNumber: number;
  flaggedCalls: number;
  /** Presentations of numbers beyond MAX_NUMBERS_PER_SOURCE, not learned. */
  numbersNotLearned: number;
}

interface CallSeen {
  readonly source: SourceSeen;
  readonly numbers: readonly string[];
}

export interface LearnedEntry {
  /** `+31205550101` or `+31205550101-+31205550105` (an inclusive range of equal-length numbers). */
  readonly pattern: string;
  readonly numbers: number;
  readonly calls: number;
}

export interface LearnedPeer {
  readonly name: string;
  readonly ip: string;
  readonly transports: readonly string[];
  readonly ports: readonly number[];
  readonly morePorts: boolean;
  readonly messages: number;
  readonly calls: number;
  readonly class: 'access' | 'national' | 'international' | 'enterprise';
  readonly classReason: string;
  readonly country?: string;
  readonly allowedNumbers: readonly LearnedEntry[];
  readonly leftOut: readonly { readonly number: string; readonly rules: readonly string[]; readonly calls: number }[];
  readonly callsWithoutNumber: number;
  readonly flaggedCalls: number;
  readonly numbersNotLearned: number;
}

export interface LearnResult {
  readonly homeCountry: string;
  readonly files: AnalyzeReport['files'];
  readonly sipMessages: number;
  readonly calls: number;
  /** Calls beyond MAX_CALLS: seen, not learned from. */
  readonly callsNotLearned: number;
  /** Sources beyond MAX_SOURCES (their messages not learned) or beyond the config's peer limit (not listed). */
  readonly sourcesNotListed: number;
  readonly peers: readonly LearnedPeer[];
}

/** Text of a possibly hostile value that is safe inside a YAML comment: printable ASCII, bounded. */
function commentSafe(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

function numberOf(n: Num): string | undefined {
  return n.kind === 'e164' ? n.e164 : undefined;
}

/** Peer name from an address: `observed-192-0-2-10`, `observed-2001-db8--1`. */
function peerName(ip: string): string {
  return `observed-${ip.replace(/[^0-9A-Za-z]+/g, '-').toLowerCase()}`;
}

/**
 * Summarises numbers into entries: numbers of one length that share all but their last `d` digits form one range
 * (lowest to highest seen); `d` starts at 2 (blocks of 100) and grows until at most MAX_ENTRIES entries remain.
 */
export function summariseNumbers(numbers: ReadonlyMap<string, number>): LearnedEntry[] {
  const sorted = [...numbers.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  let groups = new Map<string, string[]>();
  for (let d = 2; ; d++) {
    groups = new Map();
    for (const n of sorted) {
      // Keep at least the country code and one digit: `+3` never covers a country.
      const keep = Math.max(3, n.length - d);
      const key = `${n.length}:${n.slice(0, keep)}`;
      const g = groups.get(key);
      if (g) g.push(n);
      else groups.set(key, [n]);
    }
    if (groups.size <= MAX_ENTRIES || d >= 14) break;
  }
  const out: LearnedEntry[] = [];
  for (const g of groups.values()) {
    const lo = g[0]!;
    const hi = g[g.length - 1]!;
    const calls = g.reduce((sum, n) => sum + (numbers.get(n) ?? 0), 0);
    out.push({ pattern: lo === hi ? lo : `${lo}-${hi}`, numbers: g.length, calls });
  }
  return out;
}

/**
 * A guess at the peer's class from what it presented: mostly foreign numbers → international; many distinct numbers
 * or several countries → national transit; one or two numbers → an access line; a handful → an enterprise PBX.
 * The country is set when most numbers belong to one country other than the home country (libphonenumber's region).
 */
function guessClass(
  numbers: ReadonlyMap<string, number>,
  countryOf: ReadonlyMap<string, string | undefined>,
  homeCountry: string,
): { class: LearnedPeer['class']; reason: string; country?: string } {
  const distinct = numbers.size;
  const countries = new Map<string, number>();
  for (const n of numbers.keys()) {
    const c = countryOf.get(n) ?? '?';
    countries.set(c, (countries.get(c) ?? 0) + 1);
  }
  const foreign = [...countries.entries()].filter(([c]) => c !== homeCountry).reduce((s, [, k]) => s + k, 0);
  const top = [...countries.entries()].sort((a, b) => b[1] - a[1])[0];
  const country = top !== undefined && top[0] !== '?' && top[0] !== homeCountry && top[1] * 2 > distinct ? top[0] : undefined;
  if (distinct === 0) return { class: 'access', reason: 'no number learned' };
  if (foreign * 2 > distinct) {
    return { class: 'international', reason: `${foreign} of ${distinct} numbers outside ${homeCountry}`, ...(country ? { country } : {}) };
  }
  if (distinct >= 50 || countries.size > 2) return { class: 'national', reason: `${distinct} distinct numbers in ${countries.size} countries: transit` };
  if (distinct <= 2) return { class: 'access', reason: `${distinct} distinct number${distinct === 1 ? '' : 's'}` };
  return { class: 'enterprise', reason: `${distinct} distinct numbers` };
}

/** Runs the captures through the pipeline and learns one peer per source (see the module comment). */
export async function learnFromCaptures(files: readonly string[], config: Config): Promise<LearnResult> {
  const sources = new Map<string, SourceSeen>();
  const calls = new Map<string, CallSeen>();
  const countryOf = new Map<string, string | undefined>();
  const flaggedCalls = new Map<string, Alert[]>();
  let callsNotLearned = 0;
  // Bounded as well: only its size is reported.
  const untracked = new Set<string>();
  const analyzer = new Analyzer(config, (alert) => {
    if (CONFIG_FINDINGS.has(alert.rule) || severityRank(alert.severity) < severityRank('medium')) return;
    const list = flaggedCalls.get(alert.call.callId);
    if (list) list.push(alert);
    else flaggedCalls.set(alert.call.callId, [alert]);
  });
  const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} } as Pick<AnalyzeReport, 'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'>;
  await runFiles(
    files,
    (e) => {
      const { msg, meta } = e;
      let src = sources.get(meta.src.ip);
      if (!src) {
        if (sources.size >= MAX_SOURCES) {
          untracked.add(meta.src.ip);
          analyzer.handle(e);
          return;
        }
        src = { ip: meta.src.ip, transports: new Set(), ports: new Set(), morePorts: false, messages: 0, calls: 0, numbers: new Map(), flagged: new Map(), callsWithoutNumber: 0, flaggedCalls: 0, numbersNotLearned: 0 };
        sources.set(meta.src.ip, src);
      }
      src.messages++;
      src.transports.add(meta.transport);
      if (src.ports.size < MAX_PORTS) src.ports.add(meta.src.port);
      else if (!src.ports.has(meta.src.port)) src.morePorts = true;
      const before = analyzer.stats.initialInvites;
      analyzer.handle(e);
      if (analyzer.stats.initialInvites === before || msg.callId === undefined) return;
      src.calls++;
      if (calls.size >= MAX_CALLS || calls.has(msg.callId)) {
        callsNotLearned++;
        return;
      }
      // The identities the analyzer just judged, normalised the same way (home country: the peer is not known yet).
      const facts = buildFacts({ msg, meta, callId: msg.callId, initialInvite: true, peer: undefined, peerTransportMismatch: undefined, country: config.homeCountry, numbers: analyzer.numbers }, true, NO_SHAKEN, 1);
      const numbers = new Set<string>();
      for (const id of [facts.from, ...facts.pai]) {
        if (!id) continue;
        const n = numberOf(id.num);
        if (n === undefined) continue;
        numbers.add(n);
        if (id.num.kind === 'e164' && !countryOf.has(n)) countryOf.set(n, id.num.country);
      }
      calls.set(msg.callId, { source: src, numbers: [...numbers] });
    },
    report,
    { limits: config.limits },
  );

  // Flagged calls teach nothing; the numbers their findings name are left out for their source.
  for (const [callId, alerts] of flaggedCalls) {
    const call = calls.get(callId);
    const src = call?.source ?? sources.get(alerts[0]!.network.src.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
    if (!src) continue;
    const named = new Set<string>();
    for (const a of alerts) {
      const text = a.presented.number;
      for (const n of text !== undefined && text !== '' ? [text] : (call?.numbers ?? [])) named.add(`${n}\u0000${a.rule}`);
    }
    // Numbers of the call that no finding names are not learned from this call either.
    for (const n of call?.numbers ?? []) if (![...named].some((k) => k.startsWith(`${n}\u0000`))) named.add(`${n}\u0000(in a flagged call)`);
    const perNumber = new Map<string, Set<string>>();
    for (const k of named) {
      const [n, rule] = k.split('\u0000') as [string, string];
      const s = perNumber.get(n);
      if (s) s.add(rule);
      else perNumber.set(n, new Set([rule]));
    }
    for (const [n, rules] of perNumber) {
      const f = src.flagged.get(n);
      if (f) {
        for (const r of rules) f.rules.add(r);
        f.calls++;
      } else src.flagged.set(n, { rules, calls: 1 });
    }
    if (call) src.flaggedCalls++;
  }
  for (const [callId, call] of calls) {
    if (flaggedCalls.has(callId)) continue;
    if (call.numbers.length === 0) call.source.callsWithoutNumber++;
    for (const n of call.numbers) {
      const seen = call.source.numbers.get(n);
      if (seen === undefined && call.source.numbers.size >= MAX_NUMBERS_PER_SOURCE) call.source.numbersNotLearned++;
      else call.source.numbers.set(n, (seen ?? 0) + 1);
    }
  }
  const peers: LearnedPeer[] = [];
  // A config holds at most CONFIG_LIMITS.peers peers: the sources with most calls (then messages) are listed.
  const listed = [...sources.values()];
  if (listed.length > CONFIG_LIMITS.peers) {
    const keep = new Set([...listed].sort((a, b) => b.calls - a.calls || b.messages - a.messages).slice(0, CONFIG_LIMITS.peers));
    listed.splice(0, listed.length, ...listed.filter((s) => keep.has(s)));
  }
  const names = new Set<string>();
  for (const s of listed) {
    for (const n of s.flagged.keys()) s.numbers.delete(n);
    const guess = guessClass(s.numbers, countryOf, config.homeCountry);
    let name = peerName(s.ip);
    for (let i = 2; names.has(name); i++) name = `${peerName(s.ip)}-${i}`;
    names.add(name);
    peers.push({
      name,
      ip: s.ip,
      transports: [...s.transports].sort(),
      ports: [...s.ports].sort((a, b) => a - b),
      morePorts: s.morePorts,
      messages: s.messages,
      calls: s.calls,
      class: guess.class,
      classReason: guess.reason,
      ...(guess.country !== undefined ? { country: guess.country } : {}),
      allowedNumbers: summariseNumbers(s.numbers),
      leftOut: [...s.flagged.entries()].map(([number, f]) => ({ number, rules: [...f.rules].sort(), calls: f.calls })).sort((a, b) => (a.number < b.number ? -1 : 1)),
      callsWithoutNumber: s.callsWithoutNumber,
      flaggedCalls: s.flaggedCalls,
      numbersNotLearned: s.numbersNotLearned,
    });
  }
  const sourcesNotListed = untracked.size + (sources.size - listed.length);
  return { homeCountry: config.homeCountry, files: report.files, sipMessages: report.sipMessages, calls: calls.size + callsNotLearned, callsNotLearned, sourcesNotListed, peers };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The learned config as commented YAML (every value is an address, a transport, a number or a count). */
export function learnedYaml(r: LearnResult, generatedAt: Date = new Date()): string {
  const out: string[] = [];
  out.push('# spoofwatch config learned from traffic by `spoofwatch config init --from`');
  out.push(`# on ${generatedAt.toISOString()} from ${r.files.map((f) => commentSafe(f.file.split('/').pop() ?? f.file)).join(', ')}`);
  out.push(`# (${plural(r.sipMessages, 'SIP message')}, ${plural(r.calls, 'call')}${r.callsNotLearned > 0 ? `, ${r.callsNotLearned} beyond the learning bound not learned from` : ''}).`);
  if (r.sourcesNotListed > 0) out.push(`# ${plural(r.sourcesNotListed, 'more source address', 'more source addresses')} sent SIP but are not listed (bounds: ${CONFIG_LIMITS.peers} peers per config, ${MAX_SOURCES} sources tracked).`);
  out.push('#');
  out.push(`# Every peer and number below is ${LEARNED_MARK}: traffic shows what was sent, not what is allowed.`);
  out.push('# All peers are `trust: untrusted` and their class is a guess. Calls on which the default rules raised a finding');
  out.push('# (medium or above, other than SRC-UNKNOWN-PEER / HDR-PAI-UNTRUSTED) taught nothing; the numbers those findings');
  out.push('# named are left out and listed as comments under their peer. Numbers are E.164 prefixes or inclusive ranges.');
  out.push('# Lists (protected, do-not-originate numbers, brands) are not learned and not copied: add yours under `lists:`');
  out.push('# (see `spoofwatch config print-default`). Check the file with `spoofwatch config check FILE`; docs/rules.md says');
  out.push('# which config fields each rule reads.');
  out.push('');
  out.push(`homeCountry: ${r.homeCountry}`);
  out.push('');
  out.push(r.peers.length === 0 ? 'peers: []   # no SIP was seen' : 'peers:');
  for (const p of r.peers) {
    const ports = `${p.ports.join(', ')}${p.morePorts ? ' and more' : ''}`;
    const facts = [plural(p.messages, 'message'), plural(p.calls, 'call'), `source port${p.ports.length === 1 && !p.morePorts ? '' : 's'} ${ports}`];
    out.push(`  - name: ${p.name}`);
    out.push(`    description: "${LEARNED_MARK}: ${facts.join(', ')}"`);
    out.push(`    match: { cidrs: ["${p.ip}"], transport: [${p.transports.join(', ')}] }`);
    out.push('    trust: untrusted');
    out.push(`    class: ${p.class}   # guessed: ${p.classReason}`);
    if (p.country !== undefined) out.push(`    country: ${p.country}   # guessed: most numbers are from ${p.country}`);
    if (p.allowedNumbers.length === 0) {
      // An empty policy is not "may present nothing": CLI-NOT-AUTHORIZED skips peers without numbers. Say so.
      out.push('    allowedNumbers: []   # nothing learned: CLI-NOT-AUTHORIZED does not check this peer until you add its numbers');
    }
    else {
      out.push('    allowedNumbers:');
      const width = Math.max(...p.allowedNumbers.map((e) => e.pattern.length + 2));
      for (const e of p.allowedNumbers) {
        out.push(`      - ${`"${e.pattern}"`.padEnd(width)}   # ${LEARNED_MARK}: ${plural(e.numbers, 'number')}, ${plural(e.calls, 'call')}`);
      }
    }
    if (p.numbersNotLearned > 0) out.push(`    # ${plural(p.numbersNotLearned, 'more presentation')} of numbers beyond ${MAX_NUMBERS_PER_SOURCE} distinct ones not learned: looks like transit (any: true?)`);
    if (p.callsWithoutNumber > 0) out.push(`    # ${plural(p.callsWithoutNumber, 'call')} presented no E.164 number (withheld, alphanumeric or not a number)`);
    if (p.leftOut.length > 0) {
      out.push(`    # left out: flagged by the rules in ${plural(p.flaggedCalls, 'call')} of this traffic — do not add without checking`);
      const width = Math.max(...p.leftOut.map((l) => commentSafe(l.number).length));
      for (const l of p.leftOut) out.push(`    #   ${commentSafe(l.number).padEnd(width)}  ${l.rules.join(', ')} (${plural(l.calls, 'call')})`);
    }
  }
  out.push('');
  out.push('# Rules keep their defaults; see `spoofwatch rules`. Sources, server and store keep theirs (config print-default).');
  out.push('rules: {}');
  return out.join('\n') + '\n';
}

/** What `analyze` says about a learned config: its peers, to be reviewed (undefined when nothing was learned). */
export function learnedConfigNote(config: Config): string | undefined {
  const learned = config.peers.filter((p) => p.description?.startsWith(LEARNED_MARK) === true);
  if (learned.length === 0) return undefined;
  const names = learned.map((p) => p.name);
  const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
  return `${plural(learned.length, 'peer')} learned from traffic by config init, to review before trusting: ${shown}`;
}
