/**
 * `spoofwatch hep-send FILE… --to HOST:PORT [--tcp]`: replays the SIP messages of captures as HEP v3 (what
 * heplify/Kamailio emit) to a collector — our daemon, Homer, anything HEP. Messages keep their capture time and
 * addresses; `--rate` paces them (messages per second, 0 = as fast as the socket takes them).
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { encodeHep } from '../decode/hep.js';
import { runFiles, type AnalyzeReport } from './analyze.js';
import type { SipEvent } from '../pipeline/ingest.js';

export interface HepSendOptions {
  readonly host: string;
  readonly port: number;
  readonly tcp: boolean;
  readonly captureId: number;
  /** Messages per second; 0 sends as fast as possible. */
  readonly rate: number;
}

export function hepPacketOf(e: SipEvent, captureId: number): Buffer {
  const { meta } = e;
  return encodeHep({
    ipFamily: meta.src.ip.includes(':') ? 6 : 4,
    ipProtocol: meta.transport === 'udp' ? 17 : 6,
    src: meta.src,
    dst: meta.dst,
    ts: meta.ts,
    payloadType: 1,
    captureId,
    payload: e.msg.raw,
  });
}

export async function hepSend(files: readonly string[], o: HepSendOptions): Promise<{ sent: number; report: Pick<AnalyzeReport, 'files'> }> {
  const packets: Buffer[] = [];
  const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} } as Pick<
    AnalyzeReport,
    'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'
  >;
  await runFiles(files, (e) => packets.push(hepPacketOf(e, o.captureId)), report);
  const gapMs = o.rate > 0 ? 1000 / o.rate : 0;
  const start = Date.now();
  let sent = 0;
  if (o.tcp) {
    const sock: Socket = connect(o.port, o.host);
    await once(sock, 'connect');
    for (const p of packets) {
      if (!sock.write(p)) await once(sock, 'drain');
      sent++;
      if (gapMs) await pace(start, sent, gapMs);
    }
    sock.end();
    await once(sock, 'close');
  } else {
    const sock = createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
    for (const p of packets) {
      await new Promise<void>((res, rej) => sock.send(p, o.port, o.host, (err) => (err ? rej(err) : res())));
      sent++;
      if (gapMs) await pace(start, sent, gapMs);
    }
    sock.close();
  }
  return { sent, report };
}

async function pace(start: number, sent: number, gapMs: number): Promise<void> {
  const due = start + sent * gapMs - Date.now();
  if (due > 1) await new Promise((r) => setTimeout(r, due));
}
