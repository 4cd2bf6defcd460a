/**
 * Rule tests from raw SIP text: each message is parsed by parseSipMessage and fed, with a network identity we
 * choose, through a fresh Analyzer (call table, peer lookup, facts, STIR/SHAKEN, rule engine) — the same path as
 * `analyze` on a capture, minus the decoders.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Alert } from '../../src/alerts/alert.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { Analyzer } from '../../src/pipeline/analyzer.js';
import { parseSipMessage } from '../../src/sip/message.js';

type SipEvent = Parameters<Analyzer['handle']>[0];

/** Capture time the tests use unless a message says otherwise: 2025-03-01T12:00:00Z. */
export const T0 = Date.parse('2025-03-01T12:00:00Z') / 1000;

/** Peer source addresses of the test config. */
export const SRC = {
  local: '127.0.0.1:5060',
  pbxAcme: '127.0.0.10:5060',
  carrierNl: '127.0.0.11:5060',
  carrierIntl: '127.0.0.12:5060',
  untrusted: '127.0.0.13:5060',
  lawfirm: '127.0.0.14:5060',
  carrierBe: '127.0.0.15:5060',
  unknown: '192.0.2.66:5060',
} as const;

export interface SipInput {
  /** Raw SIP text with CRLF line ends. */
  readonly text: string;
  /** Source `ip:port`. */
  readonly src: string;
  /** Destination `ip:port` (default 127.0.0.2:5060, the monitored SBC). */
  readonly dst?: string;
  readonly transport?: 'udp' | 'tcp';
  /** Capture time, epoch seconds (may be fractional); default T0. */
  readonly ts?: number;
  /** Frame number; default the message's 1-based position. */
  readonly frame?: number;
}

/** What a test asserts about an alert. */
export type RaisedAlert = Pick<Alert, 'rule' | 'severity' | 'summary' | 'reasons' | 'evidence' | 'presented' | 'network' | 'call'> & {
  /** Frame of the message that raised it. */
  readonly atFrame: number;
};

export interface ConfigExtras {
  /** The `stirShaken:` section (absolute paths: parseConfig does not resolve relative ones). */
  readonly stirShaken?: { readonly trustAnchors: readonly string[]; readonly certCacheDir?: string; readonly freshnessSeconds?: number };
  /** YAML text placed under `rules:` (indented by the caller with two spaces), e.g. `  CLI-VELOCITY: { maxConcurrent: 3 }`. */
  readonly rules?: string;
}

const SCENARIO_CONFIG = new URL('../../captures/scenario/spoofwatch.yaml', import.meta.url);

/**
 * The lab of captures/scenario/spoofwatch.yaml (read, not copied) plus what the rules need: a Belgian national
 * carrier (for foreign CLIs), and optionally a stirShaken section and rule settings.
 */
export function testConfigYaml(extras: ConfigExtras = {}): string {
  const lab = parseYaml(readFileSync(SCENARIO_CONFIG, 'utf8')) as { peers: unknown[]; [k: string]: unknown };
  lab.peers.push({ name: 'carrier-be', match: { cidrs: ['127.0.0.15'] }, trust: 'trusted', class: 'national', country: 'BE', any: true });
  const ss = extras.stirShaken;
  if (ss) {
    lab['stirShaken'] = {
      trustAnchors: [...ss.trustAnchors],
      ...(ss.certCacheDir ? { certCacheDir: ss.certCacheDir } : {}),
      ...(ss.freshnessSeconds ? { freshnessSeconds: ss.freshnessSeconds } : {}),
    };
  }
  return stringifyYaml(lab) + (extras.rules ? `rules:\n${extras.rules}\n` : '');
}

export const DEFAULT_TEST_CONFIG = testConfigYaml();

export function configOf(yaml: string): Config {
  const r = parseConfig(yaml, 'rules-test.yaml');
  if (!r.ok) throw new Error(`test config does not parse:\n${r.errors.join('\n')}`);
  return r.config;
}

function endpoint(text: string): { ip: string; port: number } {
  const i = text.lastIndexOf(':');
  if (i < 0) throw new Error(`not ip:port: ${text}`);
  return { ip: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

/** One Analyzer fed message by message, so windowed tests can see which message raised what. */
export class SipSession {
  readonly analyzer: Analyzer;
  private frame = 0;

  constructor(configYaml: string = DEFAULT_TEST_CONFIG) {
    this.analyzer = new Analyzer(configOf(configYaml), () => undefined, () => new Date('2025-03-01T12:00:00Z'));
  }

  /** Feed one message; returns the alerts it raised. */
  feed(m: SipInput): RaisedAlert[] {
    const frame = m.frame ?? ++this.frame;
    if (m.frame !== undefined) this.frame = m.frame;
    const parsed = parseSipMessage(Buffer.from(m.text, 'utf8'), frame);
    if (parsed.kind === 'invalid') throw new Error(`test SIP text does not parse: ${parsed.reason}`);
    const ts = m.ts ?? T0;
    const sec = Math.floor(ts);
    const event: SipEvent = {
      msg: parsed,
      meta: {
        ts: { sec, nsec: Math.round((ts - sec) * 1e9) },
        frame,
        src: endpoint(m.src),
        dst: endpoint(m.dst ?? '127.0.0.2:5060'),
        transport: m.transport ?? 'udp',
        origin: 'test',
      },
      frames: [frame],
    };
    return this.analyzer.handle(event).map((a) => ({
      rule: a.rule,
      severity: a.severity,
      summary: a.summary,
      reasons: a.reasons,
      evidence: a.evidence,
      presented: a.presented,
      network: a.network,
      call: a.call,
      atFrame: frame,
    }));
  }
}

/** Feeds the messages, in order, through a fresh Analyzer built from the config; returns every alert raised. */
export function runSip(messages: readonly SipInput[], configYaml: string = DEFAULT_TEST_CONFIG): RaisedAlert[] {
  const s = new SipSession(configYaml);
  return messages.flatMap((m) => s.feed(m));
}

/** `rule:severity` of each alert, sorted: what "the exact set of alerts" assertions compare. */
export function ruleSet(alerts: readonly RaisedAlert[]): string[] {
  return alerts.map((a) => `${a.rule}:${a.severity}`).sort();
}

export function only(alerts: readonly RaisedAlert[], rule: string): RaisedAlert {
  const hits = alerts.filter((a) => a.rule === rule);
  if (hits.length !== 1) throw new Error(`expected exactly one ${rule} alert, got ${hits.length}: ${ruleSet(alerts).join(', ')}`);
  return hits[0]!;
}

// --------------------------------------------------------------------------------------- SIP text

/** Joins lines with CRLF and ends the header section with an empty line. */
export function crlf(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export interface InviteSpec {
  /** From header value (name-addr with tag added unless it has one). */
  readonly from: string;
  /** To header value. */
  readonly to: string;
  /** Request-URI; default the To URI. */
  readonly ruri?: string;
  readonly callId: string;
  readonly cseq?: number;
  readonly method?: string;
  /** Add a To tag (re-INVITE inside a dialog). */
  readonly toTag?: string;
  /** Extra header lines, e.g. `P-Asserted-Identity: <sip:+31…@…>`. */
  readonly headers?: readonly string[];
  readonly userAgent?: string;
  /** Host the request comes from (Via, Contact); default 127.0.0.10. */
  readonly host?: string;
  readonly body?: string;
  /** Content-Length to write instead of the body's byte length. */
  readonly contentLength?: number;
  readonly branch?: string;
}

const SDP = [
  'v=0',
  'o=- 20518 0 IN IP4 203.0.113.10',
  's=-',
  'c=IN IP4 203.0.113.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n');

/** The From value as invite() writes it: the given value plus a tag derived from the Call-ID (unless it has one). */
export function withTag(from: string, callId: string): string {
  return /;tag=/i.test(from) ? from : `${from};tag=${callId.replace(/[^A-Za-z0-9]/g, '').slice(0, 10)}f1`;
}

function uriOf(nameAddr: string): string {
  const m = /<([^>]+)>/.exec(nameAddr);
  return m ? m[1]! : nameAddr.split(';')[0]!.trim();
}

/** A realistic initial INVITE (Via, Max-Forwards, From with tag, To, Call-ID, CSeq, Contact, SDP body). */
export function invite(spec: InviteSpec): string {
  const method = spec.method ?? 'INVITE';
  const host = spec.host ?? '127.0.0.10';
  const from = withTag(spec.from, spec.callId);
  const body = spec.body ?? (method === 'INVITE' ? SDP : '');
  const bodyLen = Buffer.byteLength(body, 'utf8');
  const lines = [
    `${method} ${spec.ruri ?? uriOf(spec.to)} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:5060;branch=${spec.branch ?? `z9hG4bK-${spec.callId.replace(/[^A-Za-z0-9]/g, '')}-${spec.cseq ?? 1}`}`,
    'Max-Forwards: 70',
    `From: ${from}`,
    `To: ${spec.to}${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq ?? 1} ${method}`,
    `Contact: <sip:gw@${host}:5060>`,
    ...(spec.headers ?? []),
    ...(spec.userAgent !== undefined ? [`User-Agent: ${spec.userAgent}`] : []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${spec.contentLength ?? bodyLen}`,
  ];
  return crlf(lines, body);
}

/** `<sip:NUMBER@HOST;user=phone>` as a From/To/PAI value, optionally with a display name. */
export function sipNum(number: string, display?: string, host = 'sbc.example.net'): string {
  return `${display !== undefined ? `"${display}" ` : ''}<sip:${number}@${host};user=phone>`;
}

/** A provisional or final response to the INVITE of `spec`. */
export function response(spec: InviteSpec, status: number, reason: string, toTag = 'uas1'): string {
  const host = spec.host ?? '127.0.0.10';
  const from = withTag(spec.from, spec.callId);
  return crlf([
    `SIP/2.0 ${status} ${reason}`,
    `Via: SIP/2.0/UDP ${host}:5060;branch=z9hG4bK-${spec.callId.replace(/[^A-Za-z0-9]/g, '')}-${spec.cseq ?? 1}`,
    `From: ${from}`,
    `To: ${spec.to};tag=${toTag}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq ?? 1} INVITE`,
    'Content-Length: 0',
  ]);
}
