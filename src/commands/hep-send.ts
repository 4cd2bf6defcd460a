/**
 * `spoofwatch hep-send FILE… --to HOST:PORT [--tcp]`: replays the SIP messages of captures as HEP v3 (what
 * heplify/Kamailio emit) to a collector — our daemon, Homer, anything HEP. Messages keep their capture time and
 * addresses; `--rate` paces them (messages per second, 0 = as fast as the socket takes them).
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { encodeHep, encodeHepV12 } from '../decode/hep.js';
import { runFiles, type AnalyzeReport } from './analyze.js';
import type { SipEvent } from '../pipeline/ingest.js';

export interface HepSendOptions {
  readonly host: string;
  readonly port: number;
  readonly tcp: boolean;
  readonly captureId: number;
  /** Messages per second; 0 sends as fast as possible. */
  readonly rate: number;
  /** HEP version to send (Kamailio siptrace `hep_version`); 3 when absent. */
  readonly hepVersion?: 1 | 2 | 3;
}

/** One SIP message as a HEP packet of `version` (3 by default; 1 and 2 as Kamailio's siptrace sends them). */
export function hepPacketOf(e: SipEvent, captureId: number, version: 1 | 2 | 3 = 3): Buffer {
  const { meta } = e;
  const p = {
    ipFamily: meta.src.ip.includes(':') ? 6 : 4,
    ipProtocol: meta.transport === 'udp' ? 17 : 6,
    src: meta.src,
    dst: meta.dst,
    ts: meta.ts,
    payloadType: 1,
    captureId,
    payload: e.msg.raw,
  } as const;
  return version === 3 ? encodeHep(p) : encodeHepV12(p, version);
}

/** Where packets go: one socket for the whole run, with back-pressure and optional pacing. */
interface HepSink {
  send(p: Buffer): Promise<void>;
  close(): Promise<void>;
}

async function openSink(o: HepSendOptions): Promise<HepSink> {
  if (o.tcp) {
    const sock: Socket = connect(o.port, o.host);
    await once(sock, 'connect');
    return {
      send: async (p) => {
        if (!sock.write(p)) await once(sock, 'drain');
      },
      close: async () => {
        sock.end();
        await once(sock, 'close');
      },
    };
  }
  const sock = createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
  return {
    send: (p) => new Promise<void>((res, rej) => sock.send(p, o.port, o.host, (err) => (err ? rej(err) : res()))),
    close: async () => {
      sock.close();
    },
  };
}

/**
 * Streams each capture: the SIP messages of each read chunk are sent before the next chunk is read (runFiles'
 * afterChunk), so memory stays bounded whatever the capture size.
 */
export async function hepSend(files: readonly string[], o: HepSendOptions): Promise<{ sent: number; report: Pick<AnalyzeReport, 'files'> }> {
  const report: Pick<AnalyzeReport, 'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'> = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} };
  const sink = await openSink(o);
  const gapMs = o.rate > 0 ? 1000 / o.rate : 0;
  const start = Date.now();
  let sent = 0;
  const pending: Buffer[] = [];
  const drain = async (): Promise<void> => {
    for (const p of pending.splice(0)) {
      await sink.send(p);
      sent++;
      if (gapMs) await pace(start, sent, gapMs);
    }
  };
  try {
    await runFiles(files, (e) => pending.push(hepPacketOf(e, o.captureId, o.hepVersion)), report, { afterChunk: drain });
    await drain(); // what each file's end flushed
  } finally {
    await sink.close();
  }
  return { sent, report };
}

async function pace(start: number, sent: number, gapMs: number): Promise<void> {
  const due = start + sent * gapMs - Date.now();
  if (due > 1) await new Promise((r) => setTimeout(r, due));
}
