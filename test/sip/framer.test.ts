import { describe, expect, it } from 'vitest';
import { SipStreamFramer, parseSipMessage, type FramedMessage, type StreamChunk } from '../../src/sip/index.js';
import { fixture, parsed } from './helpers.js';

const TS = { sec: 1700000000, nsec: 0 };
const SRC = { ip: '192.0.2.20', port: 5060 };
const DST = { ip: '198.51.100.10', port: 5060 };

function chunk(payload: Buffer | string, frame: number, extra: Partial<StreamChunk> = {}): StreamChunk {
  return {
    ts: TS,
    src: SRC,
    dst: DST,
    transport: 'tcp',
    payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload,
    frame,
    flow: '192.0.2.20:5060>198.51.100.10:5060',
    ...extra,
  };
}

const A = fixture('corpus', 'invite-pai-sdp');
const B = fixture('corpus', 'resp-180');
const C = fixture('corpus', 'message-text');

function callIds(ms: FramedMessage[]): Array<string | undefined> {
  return ms.map((m) => parsed(m.bytes).callId);
}

describe('SipStreamFramer', () => {
  it('frames several messages in one segment, skipping CRLF and double-CRLF keep-alives', () => {
    const f = new SipStreamFramer();
    const out = f.push(chunk(Buffer.concat([Buffer.from('\r\n\r\n'), A, Buffer.from('\r\n'), B, C]), 7));
    expect(out.map((m) => [m.bytes.length, m.frame, m.frames])).toEqual([
      [A.length, 7, [7]],
      [B.length, 7, [7]],
      [C.length, 7, [7]],
    ]);
    expect(out[0]!.bytes.equals(A) && out[1]!.bytes.equals(B) && out[2]!.bytes.equals(C)).toBe(true);
    expect(callIds(out)).toEqual(['3c26700f2a8e1b7c4d5e6f708192a3b4@192.0.2.20', '3c26700f2a8e1b7c4d5e6f708192a3b4@192.0.2.20', 'asd88asd77a@192.0.2.130']);
    expect(f.stats).toEqual({ messages: 3, skippedBytes: 0, keepaliveBytes: 6, dropped: 0 });
    expect(f.buffered).toBe(0);
    expect(f.takeAnomalies()).toEqual([]);
  });

  it('frames by Content-Length in any spelling: compact l, any case, whitespace before the colon; look-alikes are ignored', () => {
    const msg = (clHeaders: string, body: string): string =>
      `MESSAGE sip:a@example.net SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.20;branch=z9hG4bK1\r\nFrom: <sip:b@example.net>;tag=1\r\n` +
      `To: <sip:a@example.net>\r\nCall-ID: c${body.length}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n${clHeaders}\r\n${body}`;
    const one = msg('Content-Lengtx: 99\r\nl: 5\r\n', 'hello');
    const two = msg('X: 1\r\nCONTENT-LENGTH : 3\r\n', 'abc');
    const three = msg('Content-Length: 2\r\n', 'hi');
    const f = new SipStreamFramer();
    const out = f.push(chunk(one + two + three, 4));
    expect(out.map((m) => m.bytes.toString('latin1'))).toEqual([one, two, three]);
    expect(f.takeAnomalies()).toEqual([]);
  });

  it('gives the exact completing frame for every split point of two messages over two segments', () => {
    const stream = Buffer.concat([A, C]);
    for (let k = 0; k <= stream.length; k++) {
      const f = new SipStreamFramer();
      const out = [...f.push(chunk(stream.subarray(0, k), 10)), ...f.push(chunk(stream.subarray(k), 11))];
      const aFrames = k === 0 ? [11] : k >= A.length ? [10] : [10, 11];
      const cFrames = k <= A.length ? [11] : k === stream.length ? [10] : [10, 11];
      expect(out.map((m) => [m.bytes.length, m.frame, m.frames])).toEqual([
        [A.length, k >= A.length ? 10 : 11, aFrames],
        [C.length, k === stream.length ? 10 : 11, cFrames],
      ]);
      expect(out[0]!.bytes.equals(A) && out[1]!.bytes.equals(C)).toBe(true);
    }
  });

  it('frames a message delivered one byte per segment', () => {
    const f = new SipStreamFramer();
    const out: FramedMessage[] = [];
    for (let i = 0; i < B.length; i++) out.push(...f.push(chunk(B.subarray(i, i + 1), 100 + i)));
    expect(out.length).toBe(1);
    expect(out[0]!.bytes.equals(B)).toBe(true);
    expect(out[0]!.frame).toBe(100 + B.length - 1);
    expect(out[0]!.frames).toEqual(Array.from({ length: B.length }, (_v, i) => 100 + i));
  });

  it('uses frameEnds of a coalesced payload to name the exact completing frame', () => {
    const stream = Buffer.concat([A, C]);
    const cut1 = A.length - 10;
    const cut2 = A.length + 20;
    const withEnds = new SipStreamFramer().push(chunk(stream, 5, { frames: [3, 4, 5], frameEnds: [cut1, cut2, stream.length] }));
    expect(withEnds.map((m) => [m.frame, m.frames])).toEqual([
      [4, [3, 4]],
      [5, [4, 5]],
    ]);
    // Without boundaries every listed frame may hold any byte: the payload's last frame is reported.
    const without = new SipStreamFramer().push(chunk(stream, 5, { frames: [3, 4, 5] }));
    expect(without.map((m) => [m.frame, m.frames])).toEqual([
      [5, [3, 4, 5]],
      [5, [3, 4, 5]],
    ]);
  });

  it('assumes Content-Length 0 when it is missing, with an anomaly', () => {
    const noCl = 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: nocl\r\n\r\n';
    const out = new SipStreamFramer().push(chunk(noCl + B.toString('latin1'), 3));
    expect(out.map((m) => [m.bytes.length, m.anomalies])).toEqual([
      [noCl.length, [{ kind: 'sip.content-length-missing', detail: 'no Content-Length on a stream; assuming 0', frame: 3 }]],
      [B.length, []],
    ]);
  });

  it('frames LF-only messages', () => {
    const lf = fixture('corpus', 'invite-lf-only');
    const out = new SipStreamFramer().push(chunk(Buffer.concat([lf, lf]), 1));
    expect(out.map((m) => m.bytes.length)).toEqual([lf.length, lf.length]);
  });

  it('resynchronises at the next start line after a gap, counting skipped bytes', () => {
    const f = new SipStreamFramer();
    expect(f.push(chunk(A.subarray(0, 300), 1))).toEqual([]);
    // Bytes lost: the next segment starts inside A's body, then B follows.
    const out = f.push(chunk(Buffer.concat([A.subarray(A.length - 50), B]), 3, { gap: true }));
    expect(out.map((m) => [m.bytes.length, m.frame])).toEqual([[B.length, 3]]);
    expect(f.takeAnomalies()).toEqual([
      { kind: 'tcp.stream-gap', detail: 'bytes lost before frame 3; 300 buffered bytes dropped', frame: 3 },
      { kind: 'tcp.stream-resync', detail: '50 bytes skipped to the next start line', frame: 3 },
    ]);
    expect(f.stats.skippedBytes).toBe(350);
  });

  it('skips garbage before a message, waiting for a whole line before deciding', () => {
    const f = new SipStreamFramer();
    expect(f.push(chunk('\x16\x03\x01garbage with no end', 1))).toEqual([]);
    expect(f.push(chunk(Buffer.concat([Buffer.from(' of line\r\nmore junk\r\nINV'), B.subarray(0, 10)]), 2))).toEqual([]);
    const out = f.push(chunk(Buffer.concat([Buffer.from('ITE-not-a-line\r\n'), B]), 3));
    expect(out.map((m) => m.bytes.equals(B))).toEqual([true]);
    expect(f.takeAnomalies()).toEqual([{ kind: 'tcp.stream-resync', detail: '72 bytes skipped to the next start line', frame: 3 }]);
  });

  it('drops a header section over the limit and a Content-Length over the limit', () => {
    const f = new SipStreamFramer({ maxHeaderBytes: 1000, maxBodyBytes: 100 });
    const endless = 'INVITE sip:a@b SIP/2.0\r\n' + 'X-Pad: 0123456789012345678901234567890123456789\r\n'.repeat(30);
    expect(f.push(chunk(endless, 1))).toEqual([]);
    expect(f.takeAnomalies()).toEqual([{ kind: 'tcp.stream-header-too-large', detail: 'header section exceeds 1000 bytes; dropped', frame: 1 }]);
    const big = 'MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n' + 'x'.repeat(200) + '\r\n';
    const out = f.push(chunk(Buffer.concat([Buffer.from(big), B]), 2));
    expect(out.map((m) => m.bytes.equals(B))).toEqual([true]);
    const anomalies = f.takeAnomalies().map((a) => a.kind);
    expect(anomalies).toEqual(['tcp.stream-resync', 'tcp.stream-body-too-large', 'tcp.stream-resync']);
    expect(f.stats.dropped).toBe(2);
  });

  it('keeps buffering a message whose body is still arriving', () => {
    const f = new SipStreamFramer();
    expect(f.push(chunk(A.subarray(0, A.length - 1), 1))).toEqual([]);
    expect(f.buffered).toBe(A.length - 1);
    const out = f.push(chunk(A.subarray(A.length - 1), 2));
    expect(out.map((m) => [m.frame, m.frames])).toEqual([[2, [1, 2]]]);
    const m = parseSipMessage(out[0]!.bytes, out[0]!.frame);
    expect(m.kind !== 'invalid' && m.anomalies).toEqual([]);
  });

  it('frames and resynchronises on start lines written oddly as the probe and parser accept them (issue #16.1)', () => {
    const msg = (start: string, id: string): string =>
      `${start}\r\nVia: SIP/2.0/TCP 192.0.2.20;branch=z9hG4bK${id}\r\nFrom: <sip:b@example.net>;tag=1\r\n` +
      `To: <sip:a@example.net>\r\nCall-ID: odd-${id}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
    const f = new SipStreamFramer();
    const stream = [
      msg('INVITE sip:a@example.net sip/2.0', '1'),
      msg('invite\tsip:a@example.net  SIP/2.0', '2'),
      msg('sip/2.0 180 Ringing', '3'),
      msg('\u0000\u0000INVITE sip:a@example.net SIP/2.0', '4'),
    ].join('');
    const out = f.push(chunk(stream, 1));
    expect(out.map((m) => parseSipMessage(m.bytes)).map((m) => (m.kind === 'invalid' ? m.reason : [m.callId, m.kind === 'request' ? m.method : m.status]))).toEqual([
      ['odd-1', 'INVITE'],
      ['odd-2', 'INVITE'],
      ['odd-3', 180],
      ['odd-4', 'INVITE'],
    ]);
    expect(f.takeAnomalies()).toEqual([]);
    // After a gap, the next lowercase-version start line is a resynchronisation point.
    const g = new SipStreamFramer();
    const after = g.push(chunk(`garbage line\r\n${msg('INVITE sip:a@example.net sip/2.0', '5')}`, 2));
    expect(after.map((m) => parsed(m.bytes).callId)).toEqual(['odd-5']);
    expect(g.takeAnomalies().map((a) => [a.kind, a.detail])).toEqual([['tcp.stream-resync', '14 bytes skipped to the next start line']]);
  });
});
