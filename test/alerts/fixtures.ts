import type { Alert, Severity } from '../../src/alerts/alert.js';

/** A complete v1 alert; tests override what they look at. */
export function makeAlert(over: Partial<Alert> & { peer?: string } = {}): Alert {
  const { peer, ...rest } = over;
  return {
    v: 1,
    seq: 0,
    id: 'a1b2c3',
    ts: '2025-03-01T12:00:00.000Z',
    captureTs: '2025-03-01T11:59:59.123456Z',
    rule: 'CLI-PROTECTED',
    severity: 'high' as Severity,
    title: 'Protected number presented by a foreign peer',
    summary: '+31201234567 presented by peer carrier-x',
    call: { callId: 'abc@10.0.0.1', method: 'INVITE', from: 'sip:+31201234567@x', to: 'sip:+31612345678@y', pai: [] },
    presented: { number: '+31201234567', header: 'From' },
    network: {
      src: '10.0.0.1:5060',
      dst: '10.0.0.2:5060',
      transport: 'udp',
      ...(peer !== undefined ? { peer } : {}),
      origin: 'file:test.pcap#1',
    },
    reasons: ['number is protected'],
    evidence: [{ frame: 1, header: 'From', value: '<sip:+31201234567@x>' }],
    ...rest,
  };
}
