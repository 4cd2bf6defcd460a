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

function markerIn(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const lower = text.toLowerCase();
  return MARKERS.find((m) => lower.includes(m));
}

export const rule: Rule = {
  id: 'UA-ATTACK-TOOL',
  title: 'SIP scanner or attack tool',
  defaultSeverity: 'high',
  scope: 'request',
  description:
    'User-Agent, From display name/user or Call-ID carries a marker of a known scanner (friendly-scanner, sipvicious, ' +
    'sipcli, sip-scan, VaxSIPUserAgent, pplsip, iWar, sundayaddr, smap, sivus). Caveat: own operations may use ' +
    'sipsak/sipvicious. Source: public scanner lists.',
  evaluate(ctx) {
    const { call } = ctx;
    const places: [string, string | undefined][] = [
      ['User-Agent', call.userAgent],
      ['From', call.from?.raw],
      ['Call-ID', call.callId],
    ];
    for (const [header, value] of places) {
      const m = markerIn(value);
      if (m && value !== undefined) {
        return {
          severity: ctx.severity,
          summary: `${call.method} from ${call.src.ip} by attack tool "${m}"`,
          reasons: [`${header} contains "${m}", a marker of a SIP scanning/attack tool.`],
          evidence: [{ frame: call.frame, header, value }],
          ...(call.from ? { presented: call.from } : {}),
        };
      }
    }
    return undefined;
  },
};
