/**
 * Issue #20, one message one row: the same SIP message received over several routes (HEP over UDP and TCP, two
 * agents, a tap and HEP) is one row of the call's evidence with the routes it arrived by; a second copy over the
 * same route is a retransmission and stays a row of its own. Kept in the store, one packet per row in the pcapng.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { EvidenceBuffer, routeJson, type EvidenceMessage, type EvidenceRoute } from '../../src/evidence/buffer.js';
import { evidencePcapng } from '../../src/evidence/pcap.js';
import { mergeMessages } from '../../src/evidence/service.js';
import { EvidenceStore } from '../../src/evidence/store.js';
import { parseCapture } from '../../src/sources/capture/index.js';
import { tempDir } from '../daemon/helpers.js';

const UDP_AGENT: EvidenceRoute = { address: '192.0.2.10:41000', captureId: 2001, feed: 'udp' };
const TCP_AGENT: EvidenceRoute = { address: '192.0.2.10:41000', captureId: 2001, feed: 'tcp' };
const OTHER_AGENT: EvidenceRoute = { address: '192.0.2.11:9060', captureId: 7, feed: 'udp' };

let frame = 0;
/** A message of the call (new objects each time, as the pipeline makes them); `text` is its SIP. */
const msg = (text: string, over: Partial<EvidenceMessage> = {}): EvidenceMessage => ({
  frame: ++frame,
  ts: { sec: 1_800_000_000, nsec: frame * 1000 },
  src: { ip: '192.0.2.1', port: 5060 },
  dst: { ip: '198.51.100.2', port: 5060 },
  transport: 'udp',
  raw: Buffer.from(`${text} sip:+31301234500@example.test SIP/2.0\r\nCall-ID: c1\r\n\r\n`),
  ...over,
});

function rows(b: EvidenceBuffer): { sip: string; frame: number; routes: unknown[] }[] {
  return b.get('c1')!.map((m) => ({ sip: m.raw.toString().split(' ')[0]!, frame: m.frame, routes: m.routes!.map(routeJson) }));
}

const udp = routeJson(UDP_AGENT);
const tcp = routeJson(TCP_AGENT);

describe('EvidenceBuffer: one message, one row', () => {
  it('HEP UDP then HEP TCP: each message once, with both routes, at the frame and time of its first arrival', () => {
    frame = 0;
    const b = new EvidenceBuffer();
    for (const m of ['INVITE', 'ACK', 'BYE']) b.add('c1', msg(m), undefined, UDP_AGENT);
    for (const m of ['INVITE', 'ACK', 'BYE']) b.add('c1', msg(m), undefined, TCP_AGENT);
    expect(rows(b)).toEqual([
      { sip: 'INVITE', frame: 1, routes: [udp, tcp] },
      { sip: 'ACK', frame: 2, routes: [udp, tcp] },
      { sip: 'BYE', frame: 3, routes: [udp, tcp] },
    ]);
    expect(b.stats.duplicates).toBe(3);
    expect(b.stats.messages).toBe(6);
  });

  it('a retransmission on the same route stays a row; its copy over a second route joins the second row', () => {
    frame = 0;
    const b = new EvidenceBuffer();
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT);
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT); // the UAC sent it again (Timer A)
    b.add('c1', msg('INVITE'), undefined, OTHER_AGENT);
    b.add('c1', msg('INVITE'), undefined, OTHER_AGENT);
    b.add('c1', msg('INVITE'), undefined, OTHER_AGENT); // a third send seen only by the second agent
    expect(rows(b)).toEqual([
      { sip: 'INVITE', frame: 1, routes: [udp, routeJson(OTHER_AGENT)] },
      { sip: 'INVITE', frame: 2, routes: [udp, routeJson(OTHER_AGENT)] },
      { sip: 'INVITE', frame: 5, routes: [routeJson(OTHER_AGENT)] },
    ]);
  });

  it('a tap and HEP: one row with routes tap and the agent; a tap alone never merges (two copies are two rows)', () => {
    frame = 0;
    const b = new EvidenceBuffer();
    b.add('c1', msg('INVITE'));
    b.add('c1', msg('INVITE'));
    expect(rows(b).map((r) => r.routes)).toEqual([['tap'], ['tap']]);
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT);
    expect(rows(b).map((r) => r.routes)).toEqual([['tap', udp], ['tap']]);
  });

  it('not the same message: other bytes, other source or destination port, other address', () => {
    frame = 0;
    const b = new EvidenceBuffer();
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT);
    b.add('c1', msg('INVITX'), undefined, TCP_AGENT); // same length, one byte differs
    b.add('c1', msg('INVITE', { src: { ip: '192.0.2.1', port: 5061 } }), undefined, TCP_AGENT);
    b.add('c1', msg('INVITE', { dst: { ip: '198.51.100.2', port: 5080 } }), undefined, TCP_AGENT);
    b.add('c1', msg('INVITE', { dst: { ip: '198.51.100.3', port: 5060 } }), undefined, TCP_AGENT);
    expect(rows(b).map((r) => r.routes.length)).toEqual([1, 1, 1, 1, 1]);
    b.add('c1', msg('INVITE'), undefined, TCP_AGENT);
    expect(rows(b).map((r) => r.routes.length)).toEqual([2, 1, 1, 1, 1]);
  });

  it('a copy of a call at its message bound still adds its route', () => {
    frame = 0;
    const b = new EvidenceBuffer({ maxBytes: 1 << 20, maxPinnedBytes: 1 << 20, maxMessagesPerCall: 2 });
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT);
    b.add('c1', msg('ACK'), undefined, UDP_AGENT);
    b.add('c1', msg('BYE'), undefined, UDP_AGENT); // over the bound: not kept
    b.add('c1', msg('ACK'), undefined, TCP_AGENT);
    expect(rows(b)).toEqual([
      { sip: 'INVITE', frame: 1, routes: [udp] },
      { sip: 'ACK', frame: 2, routes: [udp, tcp] },
    ]);
    expect(b.stats.truncatedCalls).toBe(1);
  });
});

const tmp = tempDir('sw-evroutes-');
afterAll(tmp.cleanup);

describe('routes kept and exported', () => {
  it('the store keeps each row\'s routes; a database made before routes gets the column and reads its rows without', () => {
    const file = join(tmp.dir, 'spoofwatch.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE evidence_messages (call_id TEXT NOT NULL, idx INTEGER NOT NULL, frame INTEGER NOT NULL,
      ts_sec INTEGER NOT NULL, ts_nsec INTEGER NOT NULL, src_ip TEXT NOT NULL, src_port INTEGER NOT NULL,
      dst_ip TEXT NOT NULL, dst_port INTEGER NOT NULL, transport TEXT NOT NULL, raw BLOB NOT NULL,
      PRIMARY KEY (call_id, idx)) WITHOUT ROWID`);
    old.exec(`INSERT INTO evidence_messages VALUES ('old', 0, 9, 1800000000, 0, '192.0.2.1', 5060, '198.51.100.2', 5060, 'udp', x'41')`);
    old.close();
    const s = new EvidenceStore(file);
    frame = 0;
    const b = new EvidenceBuffer();
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT);
    b.add('c1', msg('INVITE'), undefined, TCP_AGENT);
    b.add('c1', msg('ACK'));
    s.save('c1', b.get('c1')!);
    expect(s.get('c1')!.map((m) => m.routes)).toEqual([[UDP_AGENT, TCP_AGENT], ['tap']]);
    expect(s.get('old')!.map((m) => [m.frame, m.routes])).toEqual([[9, undefined]]);
    s.close();
  });

  it('a saved row that gained a route later reads with the live routes', () => {
    frame = 0;
    const b = new EvidenceBuffer();
    b.add('c1', msg('INVITE'), undefined, UDP_AGENT);
    const saved = b.get('c1')!;
    b.add('c1', msg('INVITE'), undefined, TCP_AGENT);
    expect(mergeMessages(saved, b.get('c1'))!.map((m) => m.routes)).toEqual([[UDP_AGENT, TCP_AGENT]]);
  });

  it('the pcapng has one packet per row; a row that came by two routes names them in its comment', () => {
    frame = 0;
    const b = new EvidenceBuffer();
    for (const r of [UDP_AGENT, TCP_AGENT]) for (const m of ['INVITE', 'ACK']) b.add('c1', msg(m), undefined, r);
    const pcapng = evidencePcapng(b.get('c1')!, new Map([[1, 'spoofwatch X (high): y']]));
    const { frames, error } = parseCapture(pcapng);
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(2);
    // Packet comments are UTF-8 options of each Enhanced Packet Block.
    const via = 'arrived by hep/udp 192.0.2.10:41000 id 2001, hep/tcp 192.0.2.10:41000 id 2001';
    expect(pcapng.includes(`spoofwatch X (high): y (original frame 1; ${via})`)).toBe(true);
    expect(pcapng.includes(`original frame 2; ${via}`)).toBe(true);
  });
});
