/**
 * SIP over WebSocket (RFC 7118) decoding: the frame-header parser (RFC 6455 §5.2), the per-direction message
 * decoder (unmasking §5.3, fragmentation §5.4, control frames §5.5), the handshake-following flow table, and
 * Ingest on TCP datagrams — every input split at every byte boundary, every deviation named.
 */
import { describe, expect, it } from 'vitest';
import {
  WsFlows,
  WsMessageDecoder,
  parseHttpHead,
  parseWsFrameHeader,
  reverseFlow,
  DEFAULT_WS_FLOW_LIMITS,
  type WsMessage,
} from '../../src/decode/websocket.js';
import { Ingest, datagramKind, type SipEvent } from '../../src/pipeline/ingest.js';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { parseConfig } from '../../src/config/index.js';
import type { Anomaly, Datagram } from '../../src/types.js';
import { wsFrame } from '../../scripts/lib/websocket.js';
import { rng } from './helpers.js';

const TS = { sec: 1_700_000_000, nsec: 0 };
const M1 = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const M2 = Buffer.from([0x01, 0x02, 0x03, 0x04]);

function invite(callId: string, from = '+31201234567', body = ''): Buffer {
  return Buffer.from(
    `INVITE sip:+31301234500@192.0.2.40;user=phone SIP/2.0\r\n` +
      `Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK-${callId}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${from}@ws.example.test;user=phone>;tag=f1\r\n` +
      `To: <sip:+31301234500@192.0.2.40;user=phone>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n` +
      `Contact: <sip:x@abc.invalid;transport=ws>\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const OK = Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bK-1\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');

describe('parseWsFrameHeader (RFC 6455 §5.2)', () => {
  it('reads 7-, 16- and 64-bit lengths, FIN, RSV, opcode and the masking key', () => {
    const small = wsFrame({ opcode: 1, payload: Buffer.alloc(125), mask: M1 });
    expect(parseWsFrameHeader(small)).toEqual({
      kind: 'ok',
      consumed: 6,
      value: { fin: true, rsv: 0, opcode: 1, masked: true, maskKey: 0x37fa213d, payloadLength: 125, nonMinimalLength: false },
    });
    const mid = wsFrame({ opcode: 2, fin: false, payload: Buffer.alloc(126) });
    expect(parseWsFrameHeader(mid)).toEqual({
      kind: 'ok',
      consumed: 4,
      value: { fin: false, rsv: 0, opcode: 2, masked: false, maskKey: 0, payloadLength: 126, nonMinimalLength: false },
    });
    const big = wsFrame({ opcode: 0, rsv: 4, payload: Buffer.alloc(70_000), mask: M2 });
    expect(parseWsFrameHeader(big)).toEqual({
      kind: 'ok',
      consumed: 14,
      value: { fin: true, rsv: 4, opcode: 0, masked: true, maskKey: 0x01020304, payloadLength: 70_000, nonMinimalLength: false },
    });
    const padded = wsFrame({ opcode: 1, payload: Buffer.alloc(5), len: 64 });
    expect(parseWsFrameHeader(padded)).toMatchObject({ kind: 'ok', consumed: 10, value: { payloadLength: 5, nonMinimalLength: true } });
  });

  it('is incomplete on every prefix of a header, with the bytes still needed', () => {
    const h = wsFrame({ opcode: 1, payload: Buffer.alloc(70_000), mask: M1 }).subarray(0, 14);
    for (let k = 0; k < 14; k++) {
      const r = parseWsFrameHeader(h.subarray(0, k));
      expect(r.kind, `prefix ${k}`).toBe('incomplete');
      expect(r.kind === 'incomplete' ? r.need : 0).toBe(k < 2 ? 2 - k : 14 - k);
    }
    expect(parseWsFrameHeader(Buffer.concat([Buffer.alloc(3), h]), 3)).toMatchObject({ kind: 'ok', consumed: 14 });
  });

  it('rejects a 64-bit length with its top bit set, and lengths beyond 2^53', () => {
    const b = Buffer.from([0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseWsFrameHeader(b)).toEqual({ kind: 'invalid', reason: 'websocket 64-bit payload length has its most significant bit set' });
    const c = Buffer.from([0x81, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 1]);
    expect(parseWsFrameHeader(c)).toMatchObject({ kind: 'invalid' });
  });
});

/** A client stream: INVITE in 3 fragments with a ping between, a binary 200, a 64-bit-length INVITE, a close. */
function clientStream(): { bytes: Buffer; messages: Buffer[] } {
  const a = invite('frag-1', '+31201234567', 'v=0\r\n'.repeat(40));
  const b = OK;
  const c = invite('len64-1', '+31612345678');
  const q = Math.ceil(a.length / 3);
  const bytes = Buffer.concat([
    wsFrame({ opcode: 1, fin: false, payload: a.subarray(0, q), mask: M1 }),
    wsFrame({ opcode: 9, payload: Buffer.from('ping'), mask: M2 }),
    wsFrame({ opcode: 0, fin: false, payload: a.subarray(q, 2 * q), mask: M2 }),
    wsFrame({ opcode: 10, payload: Buffer.alloc(0), mask: M1 }),
    wsFrame({ opcode: 0, fin: true, payload: a.subarray(2 * q), mask: M1 }),
    wsFrame({ opcode: 2, payload: b, mask: M2 }),
    wsFrame({ opcode: 1, payload: c, mask: M1, len: 64 }),
    wsFrame({ opcode: 1, payload: Buffer.alloc(0), mask: M2 }),
    wsFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]), mask: M1 }),
  ]);
  return { bytes, messages: [a, b, c, Buffer.alloc(0)] };
}

function decodeAll(d: WsMessageDecoder, pieces: Buffer[]): WsMessage[] {
  const out: WsMessage[] = [];
  pieces.forEach((p, i) => out.push(...d.push(p, i + 1, TS)));
  return out;
}

describe('WsMessageDecoder', () => {
  it('unmasks, joins fragments around control frames, keeps binary and empty messages, stops at close', () => {
    const { bytes, messages } = clientStream();
    const kinds: string[] = [];
    const d = new WsMessageDecoder(true, { maxMessageBytes: 65_536 }, (k) => kinds.push(k));
    const out = decodeAll(d, [bytes]);
    expect(out.map((m) => m.payload.toString('latin1'))).toEqual(messages.map((m) => m.toString('latin1')));
    expect(out.map((m) => m.opcode)).toEqual([1, 2, 1, 1]);
    expect(kinds).toEqual(['ws.non-minimal-length']);
    expect(d.push(Buffer.from('more'), 9, TS)).toEqual([]);
    expect(kinds).toEqual(['ws.non-minimal-length', 'ws.data-after-close']);
  });

  it('gives the same messages, frames and anomalies for every split into two pushes, and byte by byte', () => {
    const { bytes, messages } = clientStream();
    const want = messages.map((m) => m.toString('latin1'));
    for (let k = 0; k <= bytes.length; k++) {
      const kinds: string[] = [];
      const d = new WsMessageDecoder(true, { maxMessageBytes: 65_536 }, (x) => kinds.push(x));
      const out = decodeAll(d, [bytes.subarray(0, k), bytes.subarray(k)]);
      expect(out.map((m) => m.payload.toString('latin1')), `split at ${k}`).toEqual(want);
      expect(kinds, `split at ${k}`).toEqual(['ws.non-minimal-length']);
      // The first message ends in push 1 only when the cut comes after its last fragment.
      const firstEnd = bytes.indexOf(Buffer.from([0x82]));
      expect(out[0]?.frame, `split at ${k}`).toBe(k >= firstEnd ? 1 : 2);
      expect(out[0]?.frames, `split at ${k}`).toEqual(k === 0 || k >= firstEnd ? [k === 0 ? 2 : 1] : [1, 2]);
    }
    const d = new WsMessageDecoder(true, { maxMessageBytes: 65_536 }, () => undefined);
    const single = decodeAll(d, [...bytes].map((x) => Buffer.from([x])));
    expect(single.map((m) => m.payload.toString('latin1'))).toEqual(want);
  });

  it('skips a message over the bound without buffering it and decodes the next one', () => {
    const big = Buffer.alloc(5000, 0x41);
    const bytes = Buffer.concat([
      wsFrame({ opcode: 1, fin: false, payload: big.subarray(0, 3000), mask: M1 }),
      wsFrame({ opcode: 0, fin: true, payload: big.subarray(3000), mask: M1 }),
      wsFrame({ opcode: 1, payload: OK, mask: M2 }),
    ]);
    const kinds: string[] = [];
    const d = new WsMessageDecoder(true, { maxMessageBytes: 4096 }, (k) => kinds.push(k));
    const out = decodeAll(d, [bytes.subarray(0, 100), bytes.subarray(100)]);
    expect(out.map((m) => m.payload.toString())).toEqual([OK.toString()]);
    expect(kinds).toEqual(['ws.message-too-large']);
  });

  it('names each protocol deviation and keeps decoding where the framing is still known', () => {
    const kinds: string[] = [];
    const d = new WsMessageDecoder(true, { maxMessageBytes: 65_536 }, (k) => kinds.push(k));
    const out = decodeAll(d, [
      Buffer.concat([
        wsFrame({ opcode: 1, payload: OK }), // unmasked from a client: still decoded
        wsFrame({ opcode: 0, payload: Buffer.from('orphan'), mask: M1 }),
        wsFrame({ opcode: 1, fin: false, payload: Buffer.from('half'), mask: M1 }),
        wsFrame({ opcode: 2, payload: OK, mask: M2 }), // interrupts the open message
        wsFrame({ opcode: 3, payload: Buffer.from('x'), mask: M1 }),
        wsFrame({ opcode: 9, fin: false, payload: Buffer.alloc(130), mask: M1 }),
        wsFrame({ opcode: 1, rsv: 4, payload: Buffer.from('deflated'), mask: M1 }),
        wsFrame({ opcode: 1, rsv: 2, payload: OK, mask: M1 }),
      ]),
    ]);
    expect(out.map((m) => m.opcode)).toEqual([1, 2, 1]);
    expect(kinds).toEqual([
      'ws.unmasked-client-frame',
      'ws.orphan-continuation',
      'ws.interrupted-message',
      'ws.reserved-opcode',
      'ws.bad-control-frame',
      'ws.compressed-unsupported',
      'ws.reserved-bits',
    ]);
    const server = new WsMessageDecoder(false, { maxMessageBytes: 65_536 }, (k) => kinds.push(k));
    expect(decodeAll(server, [wsFrame({ opcode: 1, payload: OK, mask: M1 })]).length).toBe(1);
    expect(kinds.at(-1)).toBe('ws.masked-server-frame');
  });

  it('stops for good on an impossible length or a TCP gap (no guessing inside a frame)', () => {
    const kinds: string[] = [];
    const d = new WsMessageDecoder(true, { maxMessageBytes: 65_536 }, (k) => kinds.push(k));
    expect(d.push(Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]), 1, TS)).toEqual([]);
    expect(d.push(wsFrame({ opcode: 1, payload: OK, mask: M1 }), 2, TS)).toEqual([]);
    expect(kinds).toEqual(['ws.framing-lost']);
    const g = new WsMessageDecoder(true, { maxMessageBytes: 65_536 }, (k) => kinds.push(k));
    // A gap before the first byte loses nothing (a connection picked up mid-stream); one after it does.
    expect(g.push(wsFrame({ opcode: 1, payload: OK, mask: M1 }), 3, TS, undefined, true)).toHaveLength(1);
    expect(g.push(wsFrame({ opcode: 1, payload: OK, mask: M1 }), 4, TS, undefined, true)).toEqual([]);
    expect(g.push(wsFrame({ opcode: 1, payload: OK, mask: M1 }), 5, TS)).toEqual([]);
    expect(kinds).toEqual(['ws.framing-lost', 'ws.framing-lost']);
  });
});

describe('parseHttpHead', () => {
  it('parses the head, lower-cases names, joins folded lines, and waits for the empty line', () => {
    const head = Buffer.from('GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nSec-WebSocket-Protocol: chat,\r\n  sip\r\n\r\nXYZ');
    const r = parseHttpHead(head, 1024);
    expect(r).toEqual({
      kind: 'ok',
      consumed: head.length - 3,
      value: {
        startLine: 'GET /ws HTTP/1.1',
        headers: [
          ['host', 'a'],
          ['upgrade', 'WebSocket'],
          ['sec-websocket-protocol', 'chat, sip'],
        ],
        length: head.length - 3,
      },
    });
    for (let k = 0; k < head.length - 3; k++) expect(parseHttpHead(head.subarray(0, k), 1024).kind, `prefix ${k}`).toBe('incomplete');
    expect(parseHttpHead(Buffer.alloc(2048, 0x41), 1024)).toEqual({ kind: 'invalid', reason: 'HTTP head longer than 1024 bytes' });
  });
});

// ------------------------------------------------------------------------------------------------ flows + Ingest

const C = { ip: '192.0.2.30', port: 51000 };
const S = { ip: '192.0.2.40', port: 8080 };
const UP = `${C.ip}:${C.port}>${S.ip}:${S.port}`;
const DOWN = reverseFlow(UP);

const REQUEST = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 192.0.2.40:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n',
);
const RESPONSE = Buffer.from(
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
);

let frameNo = 0;
function seg(up: boolean, payload: Buffer, extra: Partial<Datagram> = {}): Datagram & { flow: string } {
  frameNo++;
  return { ts: TS, src: up ? C : S, dst: up ? S : C, transport: 'tcp', payload, frame: frameNo, flow: up ? UP : DOWN, frames: [frameNo], ...extra };
}

function ingest(): { ing: Ingest; events: SipEvent[]; anomalies: Anomaly[] } {
  const events: SipEvent[] = [];
  const anomalies: Anomaly[] = [];
  // The WebSocket layer's anomalies: the short SIP test messages' own (sip.missing-header …) are the SIP tests' business.
  const ing = new Ingest({ origin: 'test', onMessage: (e) => events.push(e), onAnomaly: (a) => (a.kind.startsWith('sip.') ? undefined : anomalies.push(a)) });
  return { ing, events, anomalies };
}

const summary = (events: SipEvent[]) =>
  events.map((e) => ({
    frame: e.meta.frame,
    frames: e.frames,
    transport: e.meta.transport,
    src: `${e.meta.src.ip}:${e.meta.src.port}`,
    callId: e.msg.callId,
  }));

describe('Ingest: SIP over WebSocket in TCP streams', () => {
  it('follows the handshake split at every byte boundary and yields each message as SIP over ws', () => {
    const inv = wsFrame({ opcode: 1, payload: invite('hs-1'), mask: M1 });
    const ok = wsFrame({ opcode: 1, payload: OK });
    for (let k = 1; k < REQUEST.length + 10; k++) {
      for (const j of [1, 7, RESPONSE.length - 1, RESPONSE.length, RESPONSE.length + 3]) {
        frameNo = 0;
        const { ing, events, anomalies } = ingest();
        const up = Buffer.concat([REQUEST, inv]);
        const down = Buffer.concat([RESPONSE, ok]);
        ing.pushDatagram(seg(true, up.subarray(0, Math.min(k, REQUEST.length)))); // frame 1: (part of) the request
        if (k < REQUEST.length) ing.pushDatagram(seg(true, up.subarray(k, REQUEST.length))); // rest of the head
        else frameNo++;
        ing.pushDatagram(seg(false, down.subarray(0, j))); // frame 3
        ing.pushDatagram(seg(false, down.subarray(j))); // frame 4
        ing.pushDatagram(seg(true, up.subarray(REQUEST.length))); // frame 5: the INVITE
        expect(anomalies, `k=${k} j=${j}`).toEqual([]);
        expect(summary(events), `k=${k} j=${j}`).toEqual([
          { frame: 4, frames: j > RESPONSE.length ? [3, 4] : [4], transport: 'ws', src: `${S.ip}:${S.port}`, callId: 'c1' },
          { frame: 5, frames: [5], transport: 'ws', src: `${C.ip}:${C.port}`, callId: 'hs-1' },
        ]);
        expect(ing.stats.sipMessages).toBe(2);
      }
    }
  });

  it('decodes frames a client pipelines after its request head, once the 101 arrives', () => {
    frameNo = 0;
    const { ing, events } = ingest();
    ing.pushDatagram(seg(true, Buffer.concat([REQUEST, wsFrame({ opcode: 1, payload: invite('early-1'), mask: M1 })])));
    ing.pushDatagram(seg(true, wsFrame({ opcode: 1, payload: invite('early-2'), mask: M2 })));
    expect(events).toEqual([]);
    ing.pushDatagram(seg(false, RESPONSE));
    expect(summary(events)).toEqual([
      { frame: 1, frames: [1], transport: 'ws', src: `${C.ip}:${C.port}`, callId: 'early-1' },
      { frame: 2, frames: [2], transport: 'ws', src: `${C.ip}:${C.port}`, callId: 'early-2' },
    ]);
  });

  it('a refused upgrade or a plain HTTP GET leaves the flow to the SIP framer: SIP after it is still seen', () => {
    frameNo = 0;
    const a = ingest();
    a.ing.pushDatagram(seg(true, Buffer.concat([REQUEST, invite('after-refusal')])));
    a.ing.pushDatagram(seg(false, Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    expect(summary(a.events)).toEqual([{ frame: 1, frames: [1], transport: 'tcp', src: `${C.ip}:${C.port}`, callId: 'after-refusal' }]);
    expect(a.anomalies.map((x) => x.kind)).toContain('ws.upgrade-refused');

    frameNo = 0;
    const b = ingest();
    b.ing.pushDatagram(seg(true, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')));
    b.ing.pushDatagram(seg(true, invite('after-get')));
    expect(summary(b.events)).toEqual([{ frame: 2, frames: [2], transport: 'tcp', src: `${C.ip}:${C.port}`, callId: 'after-get' }]);
  });

  it('picks up a connection first seen after its handshake (capture started later), both directions', () => {
    frameNo = 0;
    const { ing, events, anomalies } = ingest();
    ing.pushDatagram(seg(true, wsFrame({ opcode: 1, payload: invite('mid-1'), mask: M1 }), { gap: true }));
    ing.pushDatagram(seg(false, wsFrame({ opcode: 1, payload: OK }), { gap: true }));
    ing.pushDatagram(seg(true, wsFrame({ opcode: 2, payload: invite('mid-2'), mask: M2 })));
    expect(summary(events)).toEqual([
      { frame: 1, frames: [1], transport: 'ws', src: `${C.ip}:${C.port}`, callId: 'mid-1' },
      { frame: 2, frames: [2], transport: 'ws', src: `${S.ip}:${S.port}`, callId: 'c1' },
      { frame: 3, frames: [3], transport: 'ws', src: `${C.ip}:${C.port}`, callId: 'mid-2' },
    ]);
    expect(anomalies.map((a) => a.kind)).toEqual(['ws.mid-stream', 'ws.mid-stream']);

    // Plain SIP over TCP seen mid-stream, and a binary frame that is not SIP, stay with the SIP framer.
    frameNo = 0;
    const other = ingest();
    other.ing.pushDatagram(seg(true, invite('tcp-mid'), { gap: true }));
    other.ing.pushDatagram(seg(false, wsFrame({ opcode: 2, payload: Buffer.alloc(40, 7) }), { gap: true }));
    expect(summary(other.events)).toEqual([{ frame: 1, frames: [1], transport: 'tcp', src: `${C.ip}:${C.port}`, callId: 'tcp-mid' }]);
    expect(other.anomalies.map((a) => a.kind)).not.toContain('ws.mid-stream');
  });

  it('after lost TCP bytes, decodes again from the next segment that starts with a SIP frame', () => {
    frameNo = 0;
    const { ing, events, anomalies } = ingest();
    ing.pushDatagram(seg(true, REQUEST));
    ing.pushDatagram(seg(false, RESPONSE));
    const inv = wsFrame({ opcode: 1, payload: invite('lost-1'), mask: M1 });
    ing.pushDatagram(seg(true, inv.subarray(0, 50))); // frame 3: the rest of this frame never arrives
    ing.pushDatagram(seg(true, Buffer.from('tail of something'), { gap: true })); // frame 4: not a frame start
    ing.pushDatagram(seg(true, wsFrame({ opcode: 1, payload: invite('after-loss'), mask: M2 }), { gap: true })); // frame 5
    expect(summary(events)).toEqual([{ frame: 5, frames: [5], transport: 'ws', src: `${C.ip}:${C.port}`, callId: 'after-loss' }]);
    expect(anomalies.map((a) => a.kind)).toEqual(['ws.framing-lost', 'ws.resync']);
  });

  it('a new connection on the same 4-tuple (reused port) starts over with its own handshake', () => {
    frameNo = 0;
    const { ing, events, anomalies } = ingest();
    for (const id of ['first', 'second']) {
      ing.pushDatagram(seg(true, REQUEST));
      ing.pushDatagram(seg(false, RESPONSE));
      ing.pushDatagram(seg(true, wsFrame({ opcode: 1, payload: invite(`${id}-conn`), mask: M1 })));
      ing.pushDatagram(seg(true, wsFrame({ opcode: 8, payload: Buffer.from([3, 0xe8]), mask: M2 })));
      ing.pushDatagram(seg(false, wsFrame({ opcode: 8, payload: Buffer.from([3, 0xe8]) })));
    }
    expect(summary(events).map((e) => `${e.frame} ${e.callId} ${e.transport}`)).toEqual(['3 first-conn ws', '8 second-conn ws']);
    expect(anomalies).toEqual([]);
  });

  it('a WebSocket without the sip subprotocol: only messages that look like SIP are taken', () => {
    frameNo = 0;
    const { ing, events } = ingest();
    ing.pushDatagram(seg(true, Buffer.from(REQUEST.toString().replace('Sec-WebSocket-Protocol: sip\r\n', ''))));
    ing.pushDatagram(seg(false, Buffer.from(RESPONSE.toString().replace('Sec-WebSocket-Protocol: sip\r\n', ''))));
    ing.pushDatagram(seg(true, wsFrame({ opcode: 1, payload: Buffer.from('{"hello":1}'), mask: M1 })));
    ing.pushDatagram(seg(true, wsFrame({ opcode: 1, payload: invite('nosub-1'), mask: M1 })));
    expect(summary(events).map((e) => e.callId)).toEqual(['nosub-1']);
    expect(ing.stats.notSip).toBe(1);
  });

  it('bounds the flows in handshake or WebSocket state', () => {
    const kinds: string[] = [];
    const flows = new WsFlows({ ...DEFAULT_WS_FLOW_LIMITS, maxFlows: 2 }, (k) => kinds.push(k));
    for (let i = 0; i < 3; i++) {
      flows.push({ ...seg(true, REQUEST.subarray(0, 10)), flow: `192.0.2.${i}:1>192.0.2.40:80` });
    }
    expect(flows.size).toBe(2);
    expect(kinds).toEqual(['ws.flow-evicted']);
  });

  it('one byte budget for all flows: handshakes, early frames and unfinished messages; all of it given back', () => {
    const kinds: string[] = [];
    const flows = new WsFlows({ ...DEFAULT_WS_FLOW_LIMITS, maxBufferedBytes: 600 }, (k) => kinds.push(k), () => true);
    const flow = (i: number) => `192.0.2.${i}:1>192.0.2.40:80`;
    const up = (i: number, payload: Buffer, extra: Partial<Datagram> = {}) => ({ ...seg(true, payload, extra), flow: flow(i) });
    const down = (i: number, payload: Buffer) => ({ ...seg(false, payload), flow: reverseFlow(flow(i)) });
    // Three half-sent handshakes of 120 bytes hold 360 bytes; a fourth of 250 does not fit in 600: it is framed as SIP.
    for (let i = 0; i < 3; i++) expect(flows.push(up(i, REQUEST.subarray(0, 120))).kind).toBe('ws');
    expect(flows.bufferedBytes).toBe(360);
    expect(flows.push(up(3, Buffer.concat([REQUEST, Buffer.alloc(67, 0x20)])))).toMatchObject({ kind: 'not-ws' });
    expect(kinds).toEqual(['ws.buffer-limit']);
    // Flow 0 completes its handshake; a message split over two pushes is held only until it completes.
    expect(flows.push(up(0, REQUEST.subarray(120))).kind).toBe('ws');
    expect(flows.push(down(0, RESPONSE)).kind).toBe('ws');
    expect(flows.bufferedBytes).toBe(240);
    const frame = wsFrame({ opcode: 1, payload: Buffer.alloc(200, 0x41), mask: M1 });
    flows.push(up(0, frame.subarray(0, 150)));
    expect(flows.bufferedBytes).toBe(240 + 150 - 8);
    const done = flows.push(up(0, frame.subarray(150)));
    expect(done.kind === 'ws' ? done.messages.map((m) => m.payload.length) : []).toEqual([200]);
    expect(flows.bufferedBytes).toBe(240);
    // A message that would pass the budget is skipped; forgetting flows gives everything back.
    const big = wsFrame({ opcode: 1, payload: Buffer.alloc(400, 0x42), mask: M2 });
    expect(flows.push(up(0, big))).toEqual({ kind: 'ws', messages: [] });
    expect(kinds).toEqual(['ws.buffer-limit', 'ws.buffer-limit']);
    expect(flows.bufferedBytes).toBe(240);
    flows.forget(flow(1));
    expect(flows.bufferedBytes).toBe(120);
    flows.clear();
    expect(flows.bufferedBytes).toBe(0);
  });

  it('hostile bytes (random, mutated frames, gaps, reused handshakes) never throw and leave nothing held', () => {
    const rand = rng(0x5eed);
    const pick = (n: number) => Math.floor(rand() * n);
    const good = Buffer.concat([
      wsFrame({ opcode: 1, payload: invite('fz-1'), mask: M1 }),
      wsFrame({ opcode: 1, fin: false, payload: invite('fz-2').subarray(0, 40), mask: M2 }),
      wsFrame({ opcode: 9, payload: Buffer.from('p'), mask: M1 }),
      wsFrame({ opcode: 0, payload: invite('fz-2').subarray(40), mask: M1 }),
    ]);
    const kinds = new Set<string>();
    let messages = 0;
    const flows = new WsFlows({ ...DEFAULT_WS_FLOW_LIMITS, maxFlows: 8, maxBufferedBytes: 4096, maxMessageBytes: 1024 }, (k) => kinds.add(k), () => rand() < 0.5);
    for (let round = 0; round < 3000; round++) {
      const i = pick(12);
      const upDir = rand() < 0.6;
      let payload: Buffer;
      const r = rand();
      if (r < 0.15) payload = upDir ? REQUEST : RESPONSE;
      else if (r < 0.5) {
        payload = Buffer.from(good);
        for (let k = pick(4); k > 0; k--) payload[pick(payload.length)] = pick(256);
        payload = payload.subarray(pick(payload.length), payload.length - pick(20));
      } else payload = Buffer.from(Array.from({ length: 1 + pick(200) }, () => pick(256)));
      const base = seg(upDir, payload, rand() < 0.1 ? { gap: true } : {});
      const d = { ...base, flow: upDir ? `192.0.2.${i}:1>192.0.2.40:80` : `192.0.2.40:80>192.0.2.${i}:1` };
      const res = flows.push(d);
      if (res.kind === 'ws') messages += res.messages.length;
      expect(flows.bufferedBytes).toBeGreaterThanOrEqual(0);
      expect(flows.bufferedBytes).toBeLessThanOrEqual(4096);
      expect(flows.size).toBeLessThanOrEqual(8);
      if (round % 500 === 499) flows.forget(d.flow);
    }
    flows.clear();
    expect(flows.bufferedBytes).toBe(0);
    expect(messages).toBeGreaterThan(0);
    expect(kinds.size).toBeGreaterThan(3);
  });

  it('a live ws message is SIP or not, never HEP (a client must not pick its own source address)', () => {
    const hep = Buffer.concat([Buffer.from('HEP3'), Buffer.alloc(20)]);
    const d: Datagram = { ts: TS, src: C, dst: S, transport: 'ws', payload: hep, frame: 1 };
    expect(datagramKind(d)).toBe('other');
    expect(datagramKind({ ...d, payload: invite('x') })).toBe('sip');
    expect(datagramKind({ ...d, transport: 'udp' })).toBe('hep');
  });
});

describe('analyze on a crafted SIP-over-WebSocket capture: peers match transport ws', () => {
  const peerYaml = (transport: string) =>
    `peers:\n  - { name: webrtc-gw, match: { cidrs: [192.0.2.30], transport: ${transport} }, trust: untrusted, class: access, allowedNumbers: ["+31201234567"] }\n`;
  const run = async (transport: string) => {
    const r = parseConfig(peerYaml(transport), 'ws-peers.yaml');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const rep = await analyzeFiles(['test/captures/crafted/ws/ws-basic.pcap'], r.config);
    return { rep, alerts: rep.alerts.map((a) => `${a.rule} ${a.presented.number} ${a.network.transport} ${a.network.peer ?? '-'}`) };
  };

  it('a peer with transport ws is the peer of the ws call', async () => {
    const { rep, alerts } = await run('ws');
    expect(rep.sipMessages).toBe(7);
    expect(rep.anomalies).toEqual({});
    expect(alerts).toEqual(['HDR-PAI-UNTRUSTED +31201234567 ws webrtc-gw']);
  });

  it('the same address configured for udp only: the ws call is the wrong transport for it', async () => {
    const { rep, alerts } = await run('udp');
    expect(alerts).toEqual(['HDR-PAI-UNTRUSTED +31201234567 ws -', 'SRC-UNKNOWN-PEER +31201234567 ws -']);
    expect(rep.alerts[1]?.reasons).toEqual([`192.0.2.30:51000 over ws matches a peer's address, but transport ws, peer "webrtc-gw" uses udp.`]);
  });
});
