/**
 * The correlate → rules half of the pipeline (DESIGN.md §3), shared by `analyze` and the daemon: call table,
 * peer lookup, identity facts, STIR/SHAKEN, rule engine. Feed it SipEvents; it calls back with unnumbered alerts.
 */
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/index.js';
import { CallTable, callLimitsOf, type CallRecord } from '../correlate/calls.js';
import { buildFacts, NO_SHAKEN } from '../correlate/facts.js';
import { ConfigPolicy } from '../correlate/policy.js';
import { origBindingOf, ShakenVerifier } from '../correlate/shaken.js';
import { RuleEngine, type RuleSettings } from '../rules/engine.js';
import { memoryWindows } from '../rules/window.js';
import { alertOf } from '../alerts/from-finding.js';
import { mappedFromEntries } from '../rules/forwarding.js';
import { effectiveCli, type CallFacts, type PeerFacts, type Rule } from '../rules/types.js';
import { tsMillis } from '../types.js';
import type { PeerTable } from '../identity/peers.js';
import { createNumberNormaliser, type NumberNormaliser } from '../identity/numbers.js';
import type { EvidenceBuffer } from '../evidence/buffer.js';
import type { SipEvent } from './ingest.js';

export function ruleSettingsOf(config: Config): Record<string, RuleSettings> {
  const out: Record<string, RuleSettings> = {};
  for (const [id, rc] of Object.entries(config.rules)) {
    out[id] = { ...rc.params, enabled: rc.enabled, ...(rc.severity ? { severity: rc.severity } : {}) };
  }
  // RULES.md §2.9: a replay is the same PASSporT within 2× the freshness window, unless configured otherwise.
  const replay = out['SHAKEN-REPLAY'] ?? {};
  if (replay['windowSeconds'] === undefined) out['SHAKEN-REPLAY'] = { ...replay, windowSeconds: 2 * config.stirShaken.freshnessSeconds };
  return out;
}

export interface AnalyzerStats {
  messages: number;
  requests: number;
  responses: number;
  withoutCallId: number;
  initialInvites: number;
  alerts: number;
  alertsByRule: Record<string, number>;
  alertsBySeverity: Record<string, number>;
}

/** What a scale-out sensor changes (issue #22, src/cluster): the rules it runs, and the facts of initial INVITEs. */
export interface AnalyzerHooks {
  /** The rules to run (default all): a sensor runs the per-call ones, the windowed ones run on a correlator. */
  readonly rules?: readonly Rule[];
  /** The cluster sensor this runs on: peers with `match.sensorId` match only its traffic. */
  readonly sensorId?: string;
  /** Each initial INVITE's completed facts (peer, CLI, STIR/SHAKEN), before its rules run. */
  readonly onInitialInvite?: (facts: CallFacts) => void;
}

interface Policy {
  readonly policy: ConfigPolicy;
  readonly engine: RuleEngine;
  readonly shaken: ShakenVerifier;
  readonly homeCountry: string;
}

const NO_ALERTS: readonly Alert[] = Object.freeze([]);

export class Analyzer {
  readonly calls: CallTable;
  /** Parsed numbers, cached up to `limits.numberCache` entries (kept across reloads, like the call table). */
  readonly numbers: NumberNormaliser;
  /** Capture time of the latest message with a Call-ID (ms). */
  private lastMs: number | undefined;
  private current: Policy;
  readonly stats: AnalyzerStats = {
    messages: 0,
    requests: 0,
    responses: 0,
    withoutCallId: 0,
    initialInvites: 0,
    alerts: 0,
    alertsByRule: {},
    alertsBySeverity: {},
  };

  constructor(
    config: Config,
    private readonly onAlert: (alert: Alert, call: CallRecord) => void,
    private readonly now: () => Date = () => new Date(),
    /** When set, every call's messages are buffered and alerted calls pinned (issue #6 evidence). */
    readonly evidence?: EvidenceBuffer,
    private readonly hooks: AnalyzerHooks = {},
  ) {
    this.current = Analyzer.compile(config, undefined, hooks.rules);
    this.numbers = createNumberNormaliser({ cacheSize: config.limits.numberCache });
    // limits.calls and limits.callIdleSeconds reach the table (issue #18: the idle time used to be a fixed 4 h).
    // A forgotten call's evidence goes with it unless it alerted (pinned: saved by the evidence service).
    this.calls = new CallTable(callLimitsOf(config.limits), evidence ? (rec) => evidence.releaseOpen(rec.callId, rec) : undefined);
  }

  private static compile(config: Config, previous?: Policy, rules?: readonly Rule[]): Policy {
    // The DNO files of the previous config are kept when the list is unchanged (the daemon re-reads them off-thread).
    const policy = new ConfigPolicy(config, previous?.policy.dnoFiles);
    return {
      policy,
      engine: new RuleEngine(policy, ruleSettingsOf(config), rules, memoryWindows(config.limits.windowKeys)),
      shaken: new ShakenVerifier(config.stirShaken),
      homeCountry: config.homeCountry,
    };
  }

  /** Replace peers, lists and rules (SIGHUP) keeping the call table; throws when the config cannot be compiled. */
  reload(config: Config): void {
    this.current = Analyzer.compile(config, this.current, this.hooks.rules);
  }

  /** The do-not-originate list files of the running config (the daemon re-reads them when they change). */
  get dnoFiles(): ConfigPolicy['dnoFiles'] {
    return this.current.policy.dnoFiles;
  }

  get ruleIds(): string[] {
    return this.current.engine.ruleIds;
  }

  /** The peer table of the config in force (its lookup cache is bounded by `limits.peerCache`). */
  get peers(): PeerTable {
    return this.current.policy.peers;
  }

  /**
   * Let the clock run on while no message comes (the daemon, once a second, issue #18): calls idle for
   * `limits.callIdleSeconds` and window entries older than their window, counted from the latest message's capture
   * time plus `elapsedMs`, go (with their evidence), so memory returns after a flood with no traffic after it.
   */
  advance(elapsedMs: number): void {
    this.calls.advance(elapsedMs);
    if (this.lastMs !== undefined) this.current.engine.expireWindows(this.lastMs + elapsedMs);
  }

  /** Keys held and evicted by the windowed rules (`limits.windowKeys`). */
  windowUse(): { keys: number; evicted: number } {
    return this.current.engine.windowUse();
  }

  handle(e: SipEvent): readonly Alert[] {
    const { msg, meta } = e;
    const st = this.stats;
    st.messages++;
    const callId = msg.callId;
    if (callId === undefined || callId === '') {
      st.withoutCallId++;
      return [];
    }
    const cseq = msg.cseq && msg.cseq.kind === 'cseq' ? msg.cseq : undefined;
    const nowMs = tsMillis(meta.ts);
    this.lastMs = nowMs;
    let rec: CallRecord;
    let initialInvite = false;
    if (msg.kind === 'request') {
      st.requests++;
      // The To tag tells a re-INVITE from an initial one; no other request needs To parsed (RULES.md §4: the
      // identity headers, To included, are checked on the initial INVITE).
      const to = msg.method === 'INVITE' ? msg.to : undefined;
      const hasToTag = to !== undefined && to.kind === 'name-addr' && to.tag !== undefined;
      const u = this.calls.request(callId, msg.method, cseq?.seq ?? -1, hasToTag, nowMs, meta.frame);
      rec = u.record;
      initialInvite = u.initialInvite;
    } else {
      st.responses++;
      rec = this.calls.response(callId, msg.status, cseq?.method ?? '', cseq?.seq ?? -1, nowMs, meta.frame);
    }
    // By its route (the HEP agent, or tap): a copy of a message that came by another route is kept once (issue #20).
    // The call table takes such a copy for a retransmission: no initial-INVITE rule runs twice, and alerts are once
    // per call and rule, so no rule counts it twice either.
    this.evidence?.add(callId, { frame: meta.frame, ts: meta.ts, src: meta.src, dst: meta.dst, transport: meta.transport, raw: msg.raw }, rec, meta.agent ?? 'tap');
    const { policy, engine, shaken, homeCountry } = this.current;
    // Cheap exit: a non-initial message without anomalies can only trigger request-scoped rules.
    if (!initialInvite && msg.kind === 'response' && msg.anomalies.length === 0) return [];

    const lookup = policy.peers.lookup({
      ip: meta.src.ip,
      port: meta.src.port,
      transport: meta.transport as 'udp' | 'tcp' | 'tls' | 'ws',
      hepCaptureId: e.hepCaptureId,
      sensorId: this.hooks.sensorId,
    });
    let peer: PeerFacts | undefined;
    let mismatch: string | undefined;
    if (lookup.kind === 'peer') peer = policy.factsOf(lookup.peer);
    else if (lookup.kind === 'mismatch') mismatch = lookup.reason;
    const country = peer?.country ?? homeCountry;
    // One facts object, completed in place (spreading it per message cost more than the rules).
    const facts = buildFacts(
      { msg, meta, callId, initialInvite, peer, peerTransportMismatch: mismatch, country, numbers: this.numbers },
      initialInvite,
      NO_SHAKEN,
      initialInvite ? 1 : 0,
    );
    if (initialInvite) {
      st.initialInvites++;
      if (peer) rec.peer = peer.name;
      const cli = effectiveCli(facts);
      const cliE164 = cli && cli.num.kind === 'e164' ? cli.num.e164 : undefined;
      facts.concurrentSameCli = cliE164 ? this.calls.setCli(rec, cliE164) : 1;
      if (facts.identityHeaders.length > 0) {
        const called = [facts.to, facts.requestUri]
          .map((i) => (i && i.num.kind === 'e164' ? i.num.e164 : undefined))
          .filter((n): n is string => n !== undefined);
        // Diverting numbers the signalling names, for the div PASSporTs' div.tn (RFC 8946 §4).
        const diverting = [...facts.diversion, ...mappedFromEntries(facts)]
          .map((i) => (i.num.kind === 'e164' ? i.num.e164 : undefined))
          .filter((n): n is string => n !== undefined);
        facts.shaken = shaken.verify(facts.identityHeaders, nowMs, origBindingOf(cli, facts.pai), [...new Set(called)], facts.dateMs, diverting);
      }
      this.hooks.onInitialInvite?.(facts);
    }
    const found = engine.evaluate(facts, rec);
    if (found.length === 0) return NO_ALERTS;
    // Findings become alerts here, outside the rules (issue #18.5), all of them before the first is handed on.
    const alerts = found.map((f) => alertOf(f.rule, f.finding, facts, this.now()));
    for (const a of alerts) {
      st.alerts++;
      st.alertsByRule[a.rule] = (st.alertsByRule[a.rule] ?? 0) + 1;
      st.alertsBySeverity[a.severity] = (st.alertsBySeverity[a.severity] ?? 0) + 1;
      this.evidence?.pin(callId);
      this.onAlert(a, rec);
    }
    return alerts;
  }
}
