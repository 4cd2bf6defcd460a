import { hash } from 'node:crypto';
import { ALERT_SCHEMA_VERSION, type Alert, type Severity } from '../alerts/alert.js';
import { tsMillis, type Timestamp } from '../types.js';
import { ALL_RULES } from './registry.js';
import type { CallFacts, Cli, Finding, Policy, Rule, RuleContext, RuleParams, WindowState } from './types.js';
import { effectiveCli, numText } from './types.js';
import { MemoryWindowState } from './window.js';

/**
 * Makes the keyed window stores of the windowed rules (DESIGN.md §3: in memory on one machine, a broker-backed store
 * later). `pair` gives two stores over one key space for rules that key their windows alike.
 */
export interface WindowStates {
  single(): WindowState;
  pair(): [WindowState, WindowState];
}

/** Window stores in this process's memory, each bounded to `maxKeys` keys (`limits.windowKeys`; oldest evicted). */
export function memoryWindows(maxKeys: number): WindowStates {
  return { single: () => new MemoryWindowState(maxKeys), pair: () => MemoryWindowState.pair(maxKeys) };
}

/** Per-rule settings from config (`rules:` section). */
export interface RuleSettings {
  readonly enabled?: boolean;
  readonly severity?: Severity;
  readonly [param: string]: number | string | boolean | undefined;
}

/**
 * ISO 8601 with the capture clock's full precision, e.g. 2026-11-28T14:59:11.205327123Z. A capture time no Date
 * can hold (a pcapng `if_tsoffset` of 2^60 s, beyond ±8.64e12 s) reads `invalid time (<epoch seconds>)`: the
 * alert keeps the value as found instead of the whole report failing on "Invalid time value".
 */
export function captureIso(ts: Timestamp): string {
  const d = new Date(ts.sec * 1000);
  if (Number.isNaN(d.getTime())) return `invalid time (${ts.sec}.${String(ts.nsec).padStart(9, '0')} s)`;
  return `${d.toISOString().slice(0, 19)}.${String(ts.nsec).padStart(9, '0')}Z`; // …T14:59:11 + ns
}

/**
 * Stable alert id: the same (Call-ID, rule) always gives the same id (the first 20 hex digits of SHA-256 over
 * Call-ID, NUL, rule id). The one-shot `crypto.hash` gives the same digest as a Hash object at a third of the cost.
 */
export function alertId(callId: string, rule: string): string {
  return hash('sha256', `${callId}\0${rule}`, 'hex').slice(0, 20);
}

/**
 * One message's rule context, its per-rule fields set before each rule (rules read it synchronously, keep none).
 * The CLI is worked out when a rule first asks: outside initial INVITEs no built-in rule does, and working it out
 * parses From (see DeferredFrom in correlate/facts.ts).
 */
class Context implements RuleContext {
  private c: Cli | undefined | null = null;

  constructor(
    readonly call: CallFacts,
    readonly policy: Policy,
    public state: WindowState,
    public params: RuleParams,
    public severity: Severity,
  ) {}

  get cli(): Cli | undefined {
    if (this.c === null) this.c = effectiveCli(this.call);
    return this.c;
  }
}

interface ActiveRule {
  readonly rule: Rule;
  readonly severity: Severity;
  readonly params: RuleParams;
  readonly state: WindowState;
}

/**
 * Runs the enabled rules over each message's CallFacts and turns findings into unnumbered Alerts (seq 0; the bus
 * numbers them). The caller passes the set of rules already raised for the call: alerts are once per (Call-ID, rule).
 */
export class RuleEngine {
  private readonly active: ActiveRule[];
  /** The active rules that apply to an initial INVITE (all), to another request, and to a response. */
  private readonly forInitial: ActiveRule[];
  private readonly forRequest: ActiveRule[];
  private readonly forResponse: ActiveRule[];
  evaluations = 0;

  constructor(
    private readonly policy: Policy,
    settings: Readonly<Record<string, RuleSettings>> = {},
    rules: readonly Rule[] = ALL_RULES,
    private readonly now: () => Date = () => new Date(),
    /** Where the windowed rules keep their state (in memory by default, `limits.windowKeys` keys per store). */
    windows: WindowStates = memoryWindows(100_000),
  ) {
    const enabled = rules.filter((r) => settings[r.id]?.enabled !== false);
    // Rules that key their windows by the same thing share a store, two at a time.
    const paired = new Map<Rule, WindowState>();
    const waiting = new Map<string, Rule>();
    for (const r of enabled) {
      if (r.windowKey === undefined) continue;
      const first = waiting.get(r.windowKey);
      if (first === undefined) waiting.set(r.windowKey, r);
      else {
        const [a, b] = windows.pair();
        paired.set(first, a).set(r, b);
        waiting.delete(r.windowKey);
      }
    }
    this.active = enabled.map((r) => {
      const s = settings[r.id] ?? {};
      const params: Record<string, number | string | boolean | undefined> = { ...(r.defaults ?? {}) };
      for (const [k, v] of Object.entries(s)) if (k !== 'enabled' && k !== 'severity') params[k] = v;
      return { rule: r, severity: s.severity ?? r.defaultSeverity, params, state: paired.get(r) ?? windows.single() };
    });
    this.forInitial = this.active;
    this.forRequest = this.active.filter((a) => a.rule.scope !== 'initial-invite');
    this.forResponse = this.active.filter((a) => a.rule.scope === 'message');
  }

  get ruleIds(): string[] {
    return this.active.map((a) => a.rule.id);
  }

  /**
   * Keys of the fullest window store (the bound `limits.windowKeys` is per store) and evictions of all stores (a
   * shared store counted once): `/metrics`.
   */
  windowUse(): { keys: number; evicted: number } {
    const seen = new Set<object>();
    let keys = 0;
    let evicted = 0;
    for (const a of this.active) {
      if (seen.has(a.state.storeRef)) continue;
      seen.add(a.state.storeRef);
      if (a.state.size > keys) keys = a.state.size;
      evicted += a.state.evicted;
    }
    return { keys, evicted };
  }

  /**
   * Evaluate one message; `seen.raised` holds the call's rule ids already alerted (created and updated here: most
   * calls never raise, and keep no set).
   */
  evaluate(call: CallFacts, seen: { raised: Set<string> | undefined }): Alert[] {
    const alerts: Alert[] = [];
    // A rule applies by scope: 'initial-invite' to initial INVITEs, 'request' to requests, 'message' to all.
    const rules = call.initialInvite ? this.forInitial : call.kind === 'request' ? this.forRequest : this.forResponse;
    if (rules.length === 0) return alerts;
    const first = rules[0]!;
    const ctx = new Context(call, this.policy, first.state, first.params, first.severity);
    for (const a of rules) {
      const raised = seen.raised;
      if (raised !== undefined && raised.has(a.rule.id)) continue;
      this.evaluations++;
      ctx.state = a.state;
      ctx.params = a.params;
      ctx.severity = a.severity;
      const finding = a.rule.evaluate(ctx);
      if (!finding) continue;
      (seen.raised ??= new Set()).add(a.rule.id);
      alerts.push(this.toAlert(a.rule, finding, call));
    }
    return alerts;
  }

  private toAlert(rule: Rule, f: Finding, call: CallFacts): Alert {
    const cli = effectiveCli(call);
    const presented = f.presented ?? cli?.identity;
    const num = presented ? presented.num : undefined;
    const s = call.shaken;
    return {
      v: ALERT_SCHEMA_VERSION,
      seq: 0,
      id: alertId(call.callId, rule.id),
      ts: this.now().toISOString(),
      captureTs: captureIso(call.ts),
      rule: rule.id,
      severity: f.severity,
      title: rule.title,
      summary: f.summary,
      call: {
        callId: call.callId,
        method: call.method,
        from: call.from?.raw ?? '',
        to: call.to?.raw ?? '',
        pai: call.pai.map((p) => p.raw),
        ...(call.rpid ? { rpid: call.rpid.raw } : {}),
        ...(call.diversion.length ? { diversion: call.diversion.map((d) => d.raw) } : {}),
        ...(s.status !== 'none'
          ? {
              identity: {
                ...(s.attest ? { attest: s.attest } : {}),
                ...(s.origTn ? { origTn: s.origTn } : {}),
                destTn: [...(s.destTn ?? [])],
                verified: s.status === 'passed',
                ...(s.status === 'failed' ? { reason: `${s.code} ${s.reason}` } : s.note !== undefined ? { reason: s.note } : {}),
              },
            }
          : {}),
      },
      presented: {
        ...(num && num.kind !== 'none' ? { number: numText(num) } : {}),
        header: presented?.header ?? 'From',
        ...(presented?.display ? { displayName: presented.display } : {}),
      },
      network: {
        src: `${call.src.ip}:${call.src.port}`,
        dst: `${call.dst.ip}:${call.dst.port}`,
        transport: call.transport,
        ...(call.peer ? { peer: call.peer.name, trust: call.peer.trust } : {}),
        origin: call.origin,
        ...(call.agent ? { agent: { address: call.agent.address, ...(call.agent.captureId !== undefined ? { captureId: call.agent.captureId } : {}) } } : {}),
      },
      reasons: [...f.reasons],
      evidence: [...f.evidence],
    };
  }
}

export { tsMillis };
