import type { Rule } from './types.js';

/** Markers of SIP scanners and attack tools (public scanner lists). Lower case. */
const MARKERS = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'sip-scan',
  'vaxsipuseragent',
  'pplsip',
  'iwar',
  'sundayaddr',
  'smap',
  'sivus',
];

/** One case-insensitive pass over the text instead of lower-casing it and searching ten times (runs per request). */
const MARKER_RE = new RegExp(MARKERS.map((m) => m.replace(/[-]/g, '\\-')).join('|'), 'i');

function markerIn(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = MARKER_RE.exec(text);
  return m ? m[0].toLowerCase() : undefined;
}

export const rule: Rule = {
  id: 'UA-ATTACK-TOOL',
  title: 'SIP scanner or attack tool',
  defaultSeverity: 'high',
  scope: 'request',
  reads: [],
  description:
    'User-Agent, From display name/user or Call-ID carries a marker of a known scanner (friendly-scanner, sipvicious, ' +
    'sipcli, sip-scan, VaxSIPUserAgent, pplsip, iWar, sundayaddr, smap, sivus). Caveat: own operations may use ' +
    'sipsak/sipvicious. Source: public scanner lists.',
  evaluate(ctx) {
    const { call } = ctx;
    // The places in order (no array of pairs per request: this rule runs on every request).
    let header = 'User-Agent';
    let value = call.userAgent;
    let m = markerIn(value);
    if (m === undefined) {
      header = 'From';
      const from = call.from;
      // A deferred From (outside initial INVITEs) is parsed only when its text holds a marker.
      value = from !== undefined && (from.text === undefined || markerIn(from.text) !== undefined) ? from.raw : undefined;
      m = markerIn(value);
    }
    if (m === undefined) {
      header = 'Call-ID';
      value = call.callId;
      m = markerIn(value);
    }
    if (m === undefined || value === undefined) return undefined;
    return {
      severity: ctx.severity,
      summary: `${call.method} from ${call.src.ip} by attack tool "${m}"`,
      reasons: [`${header} contains "${m}", a marker of a SIP scanning/attack tool.`],
      evidence: [{ frame: call.frame, header, value }],
      ...(call.from ? { presented: call.from } : {}),
    };
  },
};
