/** `spoofwatch analyze` and `spoofwatch messages`: offline runs of the pipeline over capture files. */
import { countAnomaly } from '../anomalies.js';
import { isStreamed, type Alert } from '../alerts/alert.js';
import type { Config, LimitsConfig } from '../config/index.js';
import { Analyzer } from '../pipeline/analyzer.js';
import { Ingest, ingestLimitsOf, type SipEvent } from '../pipeline/ingest.js';
import { openCapture, type CaptureError } from '../sources/capture/index.js';
import { decodeInWorker } from '../pipeline/threaded.js';
import type { CallRecord } from '../correlate/calls.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvidenceBuffer } from '../evidence/buffer.js';
import { mergeNotDecoded } from '../decode/limits.js';
import { evidencePcapng } from '../evidence/pcap.js';
import { IncidentGrouper, INCIDENTS_DEFAULTS, type Incident } from '../incidents/incident.js';
import { AlertGate } from '../incidents/gate.js';

export interface FileResult {
  readonly file: string;
  readonly format: string | undefined;
  readonly bytes: number;
  readonly frames: number;
  readonly sipMessages: number;
  readonly error?: { readonly code: string; readonly offset: number; readonly message: string };
}

export interface CallSummary {
  readonly callId: string;
  readonly peer?: string;
  readonly state: string;
  readonly finalStatus?: number;
  readonly firstFrame: number;
  /**
   * With several capture files: the file of the call's first alert (its `network.origin`), where `firstFrame` is
   * counted (frame numbers are per file). Absent for one file.
   */
  readonly file?: string;
  readonly messages: number;
  readonly alerts: string[];
}

export interface AnalyzeReport {
  /**
   * Alerts grouped by rule and key (issue #19), by id; closed after the quiet period of capture time, the others
   * still `open` when the captures end.
   */
  incidents: Incident[];
  files: FileResult[];
  frames: number;
  sipMessages: number;
  /** UDP payloads that were neither SIP nor HEP (RTP, DNS, garbage): skipped, not errors. */
  notSip: number;
  byMethod: Record<string, number>;
  byStatus: Record<string, number>;
  calls: number;
  anomalies: Record<string, number>;
  /**
   * Frames that carry nothing we decode, by reason (`ethertype 0x88cc`, `link type 147`, `ip protocol 50`;
   * a bounded set, see DecodeStats.notDecoded): why a capture yields less SIP, or none.
   */
  notDecoded: Record<string, number>;
  /** When the captures gave no SIP message: why ({@link noSipReason}). */
  noSip?: string;
  /**
   * The alerts the run kept: all of them by default; with {@link AnalyzeOptions.keepAlerts} only the first N (the
   * rest were handed to {@link AnalyzeOptions.onAlert} and counted in `notKept`).
   */
  alerts: Alert[];
  /** Calls that raised at least one alert (others are counted only); the first {@link AnalyzeOptions.keepCalls}. */
  alertedCalls: CallSummary[];
  /** Alerts and alerted calls raised but not kept in `alerts`/`alertedCalls` (present only when some were not). */
  notKept?: { alerts: number; alertedCalls: number };
  /** With --evidence-dir: the pcapng written per alert. */
  evidenceFiles?: string[];
  /**
   * With `suppress` or `threshold` in the config (issue #19): alerts marked `suppressed` / `belowThreshold` (they are
   * in `alerts`, counted in the total, but not in any incident: the daemon would not stream them).
   */
  notStreamed?: { suppressed: number; belowThreshold: number };
}

/**
 * One pcapng per alert: the call's messages, the offending frame commented with the rule (issue #6). An alert whose
 * messages cannot be written as pcapng (a capture time beyond 64 bits of nanoseconds) gets no file and is counted
 * in `anomalies` as `evidence.unwritable`; the report goes on.
 */
export function writeEvidence(dir: string, alerts: readonly Alert[], evidence: EvidenceBuffer, anomalies: Record<string, number> = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const a of alerts) {
    const messages = evidence.get(a.call.callId);
    if (!messages) continue;
    const comments = new Map<number, string>();
    for (const ev of a.evidence) if (ev.frame !== undefined) comments.set(ev.frame, `spoofwatch ${a.rule} (${a.severity}): ${a.summary}`);
    const name = `${String(a.seq).padStart(4, '0')}-${a.rule}-${a.call.callId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}.pcapng`;
    const path = join(dir, name);
    let pcapng: Buffer;
    try {
      pcapng = evidencePcapng(messages, comments);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'CAPTURE_WRITE_INVALID') throw e;
      countAnomaly(anomalies, 'evidence.unwritable');
      continue;
    }
    writeFileSync(path, pcapng);
    files.push(path);
  }
  return files;
}

/**
 * Why a capture gave no SIP message, or undefined when it gave some (or had no frames):
 * `no SIP: 12 frames of ethertype 0x88cc not decoded`, with other payloads and anomalies when there were any.
 */
export function noSipReason(r: Pick<AnalyzeReport, 'frames' | 'sipMessages' | 'notSip' | 'anomalies' | 'notDecoded'>): string | undefined {
  if (r.sipMessages > 0 || r.frames === 0) return undefined;
  const parts: string[] = [];
  const reasons = Object.entries(r.notDecoded).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (reasons.length > 0) parts.push(`${reasons.map(([k, n]) => `${n} frame${n === 1 ? '' : 's'} of ${k}`).join(', ')} not decoded`);
  if (r.notSip > 0) parts.push(`${r.notSip} payload${r.notSip === 1 ? '' : 's'} that are not SIP`);
  const anomalies = Object.values(r.anomalies).reduce((a, b) => a + b, 0);
  if (anomalies > 0) parts.push(`${anomalies} malformed (see anomalies)`);
  return `no SIP: ${parts.length > 0 ? parts.join('; ') : `${r.frames} frames`}`;
}

export interface ProgressSink {
  start(file: string, totalBytes: number | undefined): void;
  update(bytesRead: number): void;
  stop(): void;
}

function errorOf(e: CaptureError | undefined): FileResult['error'] {
  return e ? { code: e.code, offset: e.offset, message: e.message } : undefined;
}

function bump(m: Record<string, number>, k: string, n = 1): void {
  m[k] = (m[k] ?? 0) + n;
}

/** ECMAScript Dates span ±8.64e15 ms (ECMA-262 §21.4.1.1). */
const MAX_DATE_SECONDS = 8.64e12;

type RunReport = Pick<AnalyzeReport, 'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'> & { notDecoded?: Record<string, number> };

/** What reading one capture returns, whichever thread decoded it. */
interface ReadSummary {
  readonly format: string | undefined;
  readonly bytesRead: number;
  readonly frames: number;
  readonly error: FileResult['error'];
  readonly notDecoded: Readonly<Record<string, number>>;
}

/** Progress for one file: only large files get a bar, started once the size is known. */
function fileProgress(file: string, progress: ProgressSink | undefined) {
  let started = false;
  let last = 0;
  return {
    update(bytes: number, size: number | undefined, force = false): void {
      if (!progress || size === undefined || size <= 20e6 || (!force && Date.now() - last < 250)) return;
      last = Date.now();
      if (!started) progress.start(file, size);
      started = true;
      progress.update(bytes);
    },
    stop(): void {
      if (started) progress?.stop();
    },
  };
}

export interface RunFilesOptions {
  readonly progress?: ProgressSink;
  /** 1: everything on this thread; more: each capture is read and decoded in a worker thread (identical results). */
  readonly threads?: number;
  /**
   * Awaited after each read chunk's frames went through (both thread modes: the worker's batches wait for it before
   * they are acknowledged): a consumer that writes the events out (hep-send) drains them here, so memory stays
   * bounded whatever the capture size.
   */
  readonly afterChunk?: () => Promise<void>;
  /** The config's bounds for each capture's decoder and stream framers (issue #18); Ingest's defaults when absent. */
  readonly limits?: LimitsConfig;
}

/** Read each capture in turn through its own Ingest (frame numbers are per file) into one Analyzer. */
export async function runFiles(
  files: readonly string[],
  onEvent: (e: SipEvent, file: string) => void,
  report: RunReport,
  { progress, threads = 1, afterChunk, limits }: RunFilesOptions = {},
): Promise<void> {
  for (const file of files) {
    let sip = 0;
    const ingest = new Ingest({
      ...(limits ? ingestLimitsOf(limits) : {}),
      origin: file,
      onMessage: (e) => {
        sip++;
        // A capture time no Date can hold (pcapng if_tsoffset 2^60): kept as found, shown as an invalid time, counted.
        const sec = e.meta.ts.sec;
        if (sec > MAX_DATE_SECONDS || sec < -MAX_DATE_SECONDS) countAnomaly(report.anomalies, 'capture.time-out-of-range');
        onEvent(e, file);
      },
      onAnomaly: (a) => bump(report.anomalies, a.kind),
    });
    const bar = fileProgress(file, progress);
    // A worker thread reads, decodes and splits SIP while this one runs the rules (identical results); stdin
    // cannot be handed to a worker.
    const summary = threads > 1 && file !== '-' ? await readThreaded(file, ingest, bar, afterChunk) : await readHere(file, ingest, bar, afterChunk);
    ingest.flush();
    bar.stop();
    report.frames += summary.frames;
    report.sipMessages += sip;
    report.notSip += ingest.stats.notSip;
    if (report.notDecoded) mergeNotDecoded(report.notDecoded, summary.notDecoded);
    report.files.push({
      file,
      format: summary.format,
      bytes: summary.bytesRead,
      frames: summary.frames,
      sipMessages: sip,
      ...(summary.error ? { error: summary.error } : {}),
    });
  }
}

async function readHere(file: string, ingest: Ingest, bar: ReturnType<typeof fileProgress>, afterChunk?: () => Promise<void>): Promise<ReadSummary> {
  const reader = openCapture(file);
  const timer = setInterval(() => bar.update(reader.bytesRead, reader.fileSize), 250);
  try {
    // Frames go to ingest as the parser finds them, also when output back-pressure waits between chunks: a batch array
    // of a chunk's frames kept them alive across young-generation GCs (analyze --format ndjson of 500k bench
    // messages, one core: scavenges 3.6 -> 5.6 ms each, GC 0.3 -> 0.5 s).
    const summary = await reader.forEach((frame) => ingest.pushFrame(frame), afterChunk);
    return { format: summary.format, bytesRead: summary.bytesRead, frames: summary.frames, error: errorOf(summary.error), notDecoded: ingest.decodeStats.notDecoded };
  } finally {
    clearInterval(timer);
    bar.update(reader.bytesRead, reader.fileSize, true);
  }
}

async function readThreaded(file: string, ingest: Ingest, bar: ReturnType<typeof fileProgress>, afterChunk?: () => Promise<void>): Promise<ReadSummary> {
  let size: number | undefined;
  const summary = await decodeInWorker(
    file,
    ingest,
    (bytes, s) => {
      size = s;
      bar.update(bytes, s);
    },
    afterChunk,
  );
  bar.update(summary.bytesRead, size, true);
  return { format: summary.format, bytesRead: summary.bytesRead, frames: summary.frames, error: summary.error, notDecoded: summary.notDecoded ?? {} };
}

export interface AnalyzeOptions {
  /**
   * Threads for the pipeline: 1 runs everything on the main thread; 2 or more read and decode each capture and
   * split its UDP SIP messages in a worker thread while the main thread frames TCP, unwraps HEP and runs the rules
   * (identical results).
   */
  readonly threads?: number;
  /**
   * Each alert, numbered, when it is raised (streaming output: `--format ndjson|json`). The alert object is not kept
   * unless it is among the first {@link keepAlerts}.
   */
  readonly onAlert?: (alert: Alert) => void;
  /**
   * Awaited after each read chunk's frames went through (both thread modes): the writer behind `onAlert` waits here
   * for a full stdout to drain, so reading pauses instead of output piling up in memory.
   */
  readonly afterChunk?: () => Promise<void>;
  /** Alerts kept in the report (the table's first N rows); all when absent. Evidence files need them all. */
  readonly keepAlerts?: number;
  /** Alerted calls kept in the report with their call record (the first N); all when absent. */
  readonly keepCalls?: number;
}

/** The rule a call record raised first (undefined before its first alert). */
function firstRaised(call: CallRecord): string | undefined {
  if (call.raised === undefined) return undefined;
  for (const rule of call.raised) return rule;
  return undefined;
}

export async function analyzeFiles(
  files: readonly string[],
  config: Config,
  progress?: ProgressSink,
  evidenceDir?: string,
  options: AnalyzeOptions = {},
): Promise<AnalyzeReport> {
  const report: AnalyzeReport = {
    incidents: [],
    files: [],
    frames: 0,
    sipMessages: 0,
    notSip: 0,
    byMethod: {},
    byStatus: {},
    calls: 0,
    anomalies: {},
    notDecoded: {},
    alerts: [],
    alertedCalls: [],
  };
  // Each kept alerted call with the rules it raised, in alert order (filtering every alert per alerted call at the
  // end was quadratic: ~2% of a 1M-message run, and growing with the square of the alerts). Calls past keepCalls are
  // only counted, at their first alert: the one of the first rule in the record's `raised` set (alerts are once per
  // call record and rule, delivered in the order the rules raised them). A WeakSet of the records did this before;
  // an alert storm put 150k records in it.
  const alertedCalls = new Map<string, { readonly call: CallRecord; readonly rules: string[]; readonly file: string }>();
  const keepAlerts = evidenceDir !== undefined ? Infinity : (options.keepAlerts ?? Infinity);
  const keepCalls = options.keepCalls ?? Infinity;
  const onAlert = options.onAlert;
  let seq = 0;
  let alertsNotKept = 0;
  let callsNotKept = 0;
  const evidence = evidenceDir !== undefined ? new EvidenceBuffer() : undefined;
  const incidents = new IncidentGrouper(config.incidents ?? INCIDENTS_DEFAULTS);
  // Suppression and thresholds mark alerts as the daemon's would (same capture-time windows).
  const gate = new AlertGate(config, config.limits.windowKeys);
  const analyzer = new Analyzer(
    config,
    (alert, call) => {
      // Numbered in place: the analyzer made this alert for this callback alone (a copy per alert was ~1% of a storm).
      alert.seq = ++seq;
      const numbered: Alert = gate.mark(alert);
      onAlert?.(numbered);
      if (isStreamed(numbered)) incidents.observe(numbered);
      if (report.alerts.length < keepAlerts) report.alerts.push(numbered);
      else alertsNotKept++;
      const seen = alertedCalls.get(call.callId);
      if (seen) seen.rules.push(alert.rule);
      else if (firstRaised(call) === alert.rule) {
        if (alertedCalls.size < keepCalls) alertedCalls.set(call.callId, { call, rules: [alert.rule], file: alert.network.origin });
        else callsNotKept++;
      }
    },
    undefined,
    evidence,
  );
  // Counted in a Map and an array indexed by status (the parser keeps it in 100..699), copied into the report at the
  // end: a string key per message into a plain object (String(status) included) was ~2% of one-core analysis.
  const byMethod = new Map<string, number>();
  const byStatus = new Array<number>(700).fill(0);
  await runFiles(
    files,
    (e) => {
      if (e.msg.kind === 'request') byMethod.set(e.msg.method, (byMethod.get(e.msg.method) ?? 0) + 1);
      else byStatus[e.msg.status]!++;
      analyzer.handle(e);
    },
    report,
    { progress, threads: options.threads, afterChunk: options.afterChunk, limits: config.limits },
  );
  if (alertsNotKept > 0 || callsNotKept > 0) report.notKept = { alerts: alertsNotKept, alertedCalls: callsNotKept };
  for (const [method, n] of byMethod) report.byMethod[method] = n;
  for (let status = 100; status < 700; status++) if (byStatus[status]! > 0) report.byStatus[String(status)] = byStatus[status]!;
  report.calls = analyzer.calls.stats.calls;
  report.incidents = incidents.all();
  if (gate.active) {
    const g = gate.stats();
    report.notStreamed = { suppressed: g.suppressed, belowThreshold: g.belowThreshold };
  }
  const noSip = noSipReason(report);
  if (noSip !== undefined) report.noSip = noSip;
  if (evidence && evidenceDir !== undefined) report.evidenceFiles = writeEvidence(evidenceDir, report.alerts, evidence, report.anomalies);
  for (const { call: c, rules, file } of alertedCalls.values()) {
    report.alertedCalls.push({
      callId: c.callId,
      ...(c.peer ? { peer: c.peer } : {}),
      state: c.state,
      ...(c.finalStatus !== undefined ? { finalStatus: c.finalStatus } : {}),
      firstFrame: c.inviteFrame || c.firstFrame,
      ...(files.length > 1 ? { file } : {}),
      messages: c.messages,
      alerts: rules,
    });
  }
  return report;
}
