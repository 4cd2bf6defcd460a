/**
 * Worker thread of the live bench: the WebSocket subscribers, apart from the sender's event loop so that parsing
 * alerts does not delay (and burst) the paced sending, and the sender's work does not delay the receipt times.
 * Records, per alert, the Call-ID and the monotonic receipt time (process.hrtime, shared by all threads of the
 * process); the main thread subtracts the send time of the call's INVITE.
 * Messages in: {type:'open', url, n} → {type:'opened'}; {type:'reset'}; {type:'collect'} → {type:'collected', ...}.
 */
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

export type SubscriberRequest =
  | { readonly type: 'open'; readonly url: string; readonly n: number }
  | { readonly type: 'reset' }
  | { readonly type: 'collect' }
  | { readonly type: 'close' };
export type SubscriberReply =
  | { readonly type: 'opened' }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'collected'; readonly received: number; readonly callIds: string[]; readonly atMs: number[] };

const port = parentPort;
if (!port) throw new Error('subscribers-worker runs as a worker thread');
const sockets: WebSocket[] = [];
let callIds: string[] = [];
let atMs: number[] = [];
let received = 0;
const reply = (m: SubscriberReply): void => port.postMessage(m);

port.on('message', (m: SubscriberRequest) => {
  if (m.type === 'open') {
    const opened: Promise<void>[] = [];
    for (let i = 0; i < m.n; i++) {
      const ws = new WebSocket(m.url);
      let live: () => void = () => undefined;
      ws.on('message', (d: Buffer) => {
        const now = Number(process.hrtime.bigint()) / 1e6;
        const msg = JSON.parse(d.toString('utf8')) as { type: string; alert?: { call: { callId: string } } };
        // Live delivery starts once the subscribe is answered (issue #17), not at hello.
        if (msg.type === 'hello') ws.send(JSON.stringify({ type: 'subscribe' }));
        if (msg.type === 'subscribed') live();
        if (msg.type !== 'alert' || !msg.alert) return;
        received++;
        callIds.push(msg.alert.call.callId);
        atMs.push(now);
      });
      opened.push(
        new Promise((resolve, reject) => {
          live = resolve;
          ws.once('error', reject);
        }),
      );
      sockets.push(ws);
    }
    Promise.all(opened).then(
      () => reply({ type: 'opened' }),
      (e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  } else if (m.type === 'reset') {
    callIds = [];
    atMs = [];
    received = 0;
  } else if (m.type === 'collect') {
    reply({ type: 'collected', received, callIds, atMs });
  } else {
    for (const ws of sockets) ws.terminate();
    port.close();
  }
});
