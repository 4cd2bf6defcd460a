/**
 * The anomaly registry (DESIGN.md §3 "Bounds rule"): every name is `layer.kind` with its layer, and every layer's
 * own list of kinds is part of it (the types enforce that at compile time; this pins the names users see).
 */
import { describe, expect, it } from 'vitest';
import { ANOMALIES, captureAnomaly, countAnomaly, isAnomalyKind } from '../src/anomalies.js';
import { DECODE_ANOMALY_KINDS } from '../src/decode/limits.js';
import { WsAnomaly } from '../src/decode/websocket.js';
import { FramerAnomaly } from '../src/sip/framer.js';
import { SipAnomaly } from '../src/sip/message.js';
import { MALFORMED_KINDS } from '../src/correlate/facts.js';

describe('anomaly registry', () => {
  it('names every kind layer.kind, with its layer as the prefix and a one-line description', () => {
    for (const [kind, info] of Object.entries(ANOMALIES)) {
      expect(kind).toMatch(/^[a-z0-9]+\.[a-z0-9-]+$/);
      expect(kind.slice(0, kind.indexOf('.'))).toBe(info.layer);
      expect(info.description.length).toBeGreaterThan(5);
      expect(info.description).not.toContain('\n');
    }
  });

  it("holds every layer's kinds: decoder, WebSocket, framer, SIP, MSG-MALFORMED", () => {
    const lists = [DECODE_ANOMALY_KINDS, Object.values(WsAnomaly), Object.values(FramerAnomaly), Object.values(SipAnomaly), [...MALFORMED_KINDS]];
    for (const list of lists) for (const k of list) expect(isAnomalyKind(k), k).toBe(true);
    expect(Object.values(SipAnomaly).every((k) => k.startsWith('sip.'))).toBe(true);
    expect(FramerAnomaly.gap).toBe('tcp.stream-gap');
    expect(isAnomalyKind('duplicate-from')).toBe(false);
    expect(isAnomalyKind('toString')).toBe(false);
  });

  it('maps each capture error code to its own kind, and unknown codes to capture.error', () => {
    expect(['CAPTURE_EMPTY', 'CAPTURE_NOT_A_CAPTURE', 'CAPTURE_TRUNCATED', 'CAPTURE_CORRUPT', 'CAPTURE_IO', undefined, 'X'].map(captureAnomaly)).toEqual([
      'capture.empty',
      'capture.not-a-capture',
      'capture.truncated',
      'capture.corrupt',
      'capture.io',
      'capture.error',
      'capture.error',
    ]);
  });

  it('counts into a per-kind map', () => {
    const m: Record<string, number> = {};
    countAnomaly(m, 'tcp.reset');
    countAnomaly(m, 'tcp.reset', 2);
    expect(m).toEqual({ 'tcp.reset': 3 });
  });
});
