import type { Rule } from './types.js';

export const rule: Rule = {
  id: 'MSG-MALFORMED',
  title: 'Malformed SIP message',
  defaultSeverity: 'medium',
  scope: 'message',
  reads: [],
  description:
    'Duplicate From/To/Call-ID, a header over 1 KB, a message over 64 KB, NUL or bare CR/LF in a value, a ' +
    'Content-Length mismatch or an unparseable identity URI: tools that craft spoofed calls often get these wrong. ' +
    'Caveat: large legitimate INVITEs. Source: RFC 3261 §7.3, §20.14.',
  evaluate(ctx) {
    const { call } = ctx;
    if (call.anomalies.length === 0) return undefined;
    return {
      severity: ctx.severity,
      summary: `Malformed ${call.kind === 'request' ? call.method : 'response'}: ${[...new Set(call.anomalies.map((a) => a.kind))].join(', ')}`,
      reasons: call.anomalies.map((a) => `${a.kind}: ${a.detail}`),
      evidence: call.anomalies.map((a) => ({ frame: call.frame, header: a.kind, value: a.detail })),
    };
  },
};
