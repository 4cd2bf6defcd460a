import { ALL_RULES } from './registry.js';
import type { CallFacts, Cli, Finding, Policy, Rule, RuleContext, RuleParams, Severity, WindowState, WindowStates } from './types.js';
import { effectiveCli } from './types.js';

/** Per-rule settings from config (`rules:` section). */
export interface RuleSettings {
  readonly enabled?: boolean;
  readonly severity?: Severity;
  readonly [param: string]: number | string | boolean | undefined;
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

/** What one rule found on one message: the caller makes the alert (src/alerts/from-finding.ts). */
export interface RaisedFinding {
  readonly rule: Rule;
  readonly finding: Finding;
}

const NOTHING_FOUND: readonly RaisedFinding[] = Object.freeze([]);

/**
 * Runs the enabled rules over each message's CallFacts and returns what they found. The caller passes the set of
 * rules already raised for the call: a rule finds once per (Call-ID, rule). Windowed rules keep their state in the
 * {@link WindowState}s that `windows` makes (in memory, or a shared store: DESIGN.md §3).
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
    /** Where the windowed rules keep their state (`memoryWindows(limits.windowKeys)` in one process). */
    windows: WindowStates,
  ) {
    const enabled = rules.filter((r) => settings[r.id]?.enabled !== false);
    // Rules that key their windows by the same thing share a store, two at a time; rules that record every call of
    // their key first (a sparse one left alone costs nothing for keys it never records).
    const paired = new Map<Rule, WindowState>();
    const waiting = new Map<string, Rule>();
    for (const r of [...enabled.filter((x) => !x.windowSparse), ...enabled.filter((x) => x.windowSparse)]) {
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

  /** Let the windows go of what left them by `nowMs` (capture time run on while no message comes, issue #18). */
  expireWindows(nowMs: number): void {
    const seen = new Set<object>();
    for (const a of this.active) {
      if (seen.has(a.state.storeRef)) continue;
      seen.add(a.state.storeRef);
      a.state.expire(nowMs);
    }
  }

  /**
   * Evaluate one message; `seen.raised` holds the call's rule ids already alerted (created and updated here: most
   * calls never raise, and keep no set).
   */
  evaluate(call: CallFacts, seen: { raised: Set<string> | undefined }): readonly RaisedFinding[] {
    let found: RaisedFinding[] | undefined;
    // A rule applies by scope: 'initial-invite' to initial INVITEs, 'request' to requests, 'message' to all.
    const rules = call.initialInvite ? this.forInitial : call.kind === 'request' ? this.forRequest : this.forResponse;
    if (rules.length === 0) return NOTHING_FOUND;
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
      (found ??= []).push({ rule: a.rule, finding });
    }
    return found ?? NOTHING_FOUND;
  }
}
