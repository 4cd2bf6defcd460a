/** `spoofwatch analyze` and `spoofwatch messages`: offline runs of the pipeline over capture files. */
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/index.js';
import { Analyzer } from '../pipeline/analyzer.js';
import { Ingest, type SipEvent } from '../pipeline/ingest.js';
import { openCapture, type CaptureError } from '../sources/capture/index.js';
import { decodeInWorker } from '../pipeline/threaded.js';
import type { CallRecord } from '../correlate/calls.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvidenceBuffer } from '../evidence/buffer.js';
import { evidencePcapng } from '../evidence/pcap.js';

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
  readonly messages: number;
  readonly alerts: string[];
}

export interface AnalyzeReport {
  files: FileResult[];
  frames: number;
  sipMessages: number;
  /** UDP payloads that were neither SIP nor HEP (RTP, DNS, garbage): skipped, not errors. */
  notSip: number;
  byMethod: Record<string, number>;
  byStatus: Record<string, number>;
  calls: number;
  anomalies: Record<string, number>;
  alerts: Alert[];
  /** Calls that raised at least one alert (others are counted only). */
  alertedCalls: CallSummary[];
  /** With --evidence-dir: the pcapng written per alert. */
  evidenceFiles?: string[];
}

/** One pcapng per alert: the call's messages, the offending frame commented with the rule (issue #6). */
export function writeEvidence(dir: string, alerts: readonly Alert[], evidence: EvidenceBuffer): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const a of alerts) {
    const messages = evidence.get(a.call.callId);
    if (!messages) continue;
    const comments = new Map<number, string>();
    for (const ev of a.evidence) if (ev.frame !== undefined) comments.set(ev.frame, `spoofwatch ${a.rule} (${a.severity}): ${a.summary}`);
    const name = `${String(a.seq).padStart(4, '0')}-${a.rule}-${a.call.callId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}.pcapng`;
    const path = join(dir, name);
    writeFileSync(path, evidencePcapng(messages, comments));
    files.push(path);
  }
  return files;
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

/** Read each capture in turn through its own Ingest (frame numbers are per file) into one Analyzer. */
export async function runFiles(
  files: readonly string[],
  onEvent: (e: SipEvent, file: string) => void,
  report: Pick<AnalyzeReport, 'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'>,
  progress?: ProgressSink,
  threads = 1,
): Promise<void> {
  for (const file of files) {
    if (threads > 1 && file !== '-') {
      await runFileThreaded(file, onEvent, report, progress);
      continue;
    }
    let sip = 0;
    const ingest = new Ingest({
      origin: file,
      onMessage: (e) => {
        sip++;
        onEvent(e, file);
      },
      onAnomaly: (a) => bump(report.anomalies, a.kind),
    });
    const reader = openCapture(file);
    let started = false;
    let timer: NodeJS.Timeout | undefined;
    if (progress) {
      // Only large files get a bar: start it once the size is known and worth showing.
      timer = setInterval(() => {
        if (reader.fileSize !== undefined && reader.fileSize > 20e6) {
          if (!started) {
            progress.start(file, reader.fileSize);
            started = true;
          }
          progress.update(reader.bytesRead);
        }
      }, 250);
    }
    const summary = await reader.forEach((frame) => ingest.pushFrame(frame));
    if (timer) clearInterval(timer);
    ingest.flush();
    if (started) {
      progress?.update(reader.bytesRead);
      progress?.stop();
    }
    report.frames += summary.frames;
    report.sipMessages += sip;
    report.notSip += ingest.stats.notSip;
    const err = errorOf(summary.error);
    report.files.push({
      file,
      format: summary.format,
      bytes: summary.bytesRead,
      frames: summary.frames,
      sipMessages: sip,
      ...(err ? { error: err } : {}),
    });
  }
}

/** One capture decoded in a worker thread, parsed and analysed here (identical results to {@link runFiles}). */
async function runFileThreaded(
  file: string,
  onEvent: (e: SipEvent, file: string) => void,
  report: Pick<AnalyzeReport, 'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'>,
  progress?: ProgressSink,
): Promise<void> {
  let sip = 0;
  const ingest = new Ingest({
    origin: file,
    onMessage: (e) => {
      sip++;
      onEvent(e, file);
    },
    onAnomaly: (a) => bump(report.anomalies, a.kind),
  });
  let started = false;
  let last = 0;
  const summary = await decodeInWorker(file, ingest, (bytes, size) => {
    if (!progress || size === undefined || size <= 20e6 || Date.now() - last < 250) return;
    last = Date.now();
    if (!started) progress.start(file, size);
    started = true;
    progress.update(bytes);
  });
  ingest.flush();
  if (started) {
    progress?.update(summary.bytesRead);
    progress?.stop();
  }
  report.frames += summary.frames;
  report.sipMessages += sip;
  report.notSip += ingest.stats.notSip;
  report.files.push({
    file,
    format: summary.format,
    bytes: summary.bytesRead,
    frames: summary.frames,
    sipMessages: sip,
    ...(summary.error ? { error: summary.error } : {}),
  });
}

export interface AnalyzeOptions {
  /**
   * Threads for the pipeline: 1 runs everything on the main thread; 2 or more read, decode and frame each
   * capture in a worker thread while the main thread parses and runs the rules (identical results).
   */
  readonly threads?: number;
}

export async function analyzeFiles(
  files: readonly string[],
  config: Config,
  progress?: ProgressSink,
  evidenceDir?: string,
  options: AnalyzeOptions = {},
): Promise<AnalyzeReport> {
  const report: AnalyzeReport = {
    files: [],
    frames: 0,
    sipMessages: 0,
    notSip: 0,
    byMethod: {},
    byStatus: {},
    calls: 0,
    anomalies: {},
    alerts: [],
    alertedCalls: [],
  };
  const alertedCalls = new Map<string, CallRecord>();
  const evidence = evidenceDir !== undefined ? new EvidenceBuffer() : undefined;
  const analyzer = new Analyzer(
    config,
    (alert, call) => {
      report.alerts.push({ ...alert, seq: report.alerts.length + 1 });
      alertedCalls.set(call.callId, call);
    },
    undefined,
    evidence,
  );
  await runFiles(
    files,
    (e) => {
      if (e.msg.kind === 'request') bump(report.byMethod, e.msg.method);
      else bump(report.byStatus, String(e.msg.status));
      analyzer.handle(e);
      for (const a of e.msg.anomalies) bump(report.anomalies, a.kind);
    },
    report,
    progress,
    options.threads ?? 1,
  );
  report.calls = analyzer.calls.stats.calls;
  if (evidence && evidenceDir !== undefined) report.evidenceFiles = writeEvidence(evidenceDir, report.alerts, evidence);
  for (const c of alertedCalls.values()) {
    report.alertedCalls.push({
      callId: c.callId,
      ...(c.peer ? { peer: c.peer } : {}),
      state: c.state,
      ...(c.finalStatus !== undefined ? { finalStatus: c.finalStatus } : {}),
      firstFrame: c.inviteFrame || (c.frames[0] ?? 0),
      messages: c.messages,
      alerts: report.alerts.filter((a) => a.call.callId === c.callId).map((a) => a.rule),
    });
  }
  return report;
}
