/**
 * SIP over WebSocket, live and recorded (issue #16 point 7, RFC 7118): a real SIP.js 0.21.2 UserAgent (what browser
 * softphones are built on) connects to the daemon's `sources.sipWs` listener on an ephemeral loopback port and sends
 * an INVITE; the call is analysed as transport `ws` from the configured ws-only peer. The same connection, recorded
 * with tcpdump on `lo`, gives the same alerts with `spoofwatch analyze` on the capture. Also: the listener's bounds
 * and refusals, and `--sip-ws-port` from the command line.
 *
 * The SIP.js test needs tcpdump (apt-get install -y tcpdump; .ci/run installs it) and root to capture on lo, as the
 * interface test does; run `npm run build` first (it runs dist/cli.js). tcpdump runs with --immediate-mode: without
 * it the kernel hands packets over in blocks and the last ones are lost when tcpdump is stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Inviter, UserAgent, type SessionDescriptionHandler } from 'sip.js';
import type { Alert } from '../../src/alerts/alert.js';
import { runFiles } from '../../src/commands/analyze.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import type { SipEvent } from '../../src/pipeline/ingest.js';
import { applyFlags, type DaemonHandle } from '../../src/daemon/daemon.js';
import { hasBinary, quietDaemon, sleep, tempDir, waitFor } from './helpers.js';

const CONFIG_YAML = `
homeCountry: NL
peers:
  - name: browser-phones
    description: WebRTC softphones of the lab, reached over SIP over WebSocket only
    match: { cidrs: [127.0.0.1], transport: ws }
    trust: untrusted
    class: access
    allowedNumbers: ["+31301112233"]
  - name: lab-pbx
    description: the same address over UDP/TCP is the trusted PBX (must not be chosen for ws)
    match: { cidrs: [127.0.0.1], transport: [udp, tcp] }
    trust: trusted
    class: enterprise
    any: true
sources: { sip: false, hep: false, watch: false, sipWs: { host: 127.0.0.1, port: 0, path: /ws, maxConnections: 4, maxMessageBytes: 8192 } }
server: { host: 127.0.0.1, port: 0 }
`;

const CAN_CAPTURE = hasBinary('tcpdump') && process.getuid?.() === 0;
if (!CAN_CAPTURE) console.warn('skipping the SIP.js/tcpdump test: it needs tcpdump (apt-get install -y tcpdump) and root to capture on lo; CI has both');

function config(store: string): Config {
  const r = parseConfig(CONFIG_YAML, 'sip-ws.test');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return { ...r.config, store: { ...r.config.store, path: store } };
}

/** What the acceptance compares: (rule, presented number, Call-ID, transport, peer), sorted. */
function view(alerts: readonly Alert[]): string[] {
  return alerts.map((a) => `${a.rule} ${a.presented.number ?? '-'} ${a.call.callId} ${a.network.transport} ${a.network.peer ?? '-'}`).sort();
}

/**
 * Start tcpdump on lo for one TCP port; resolves once it records packets. Its filter takes effect a while after it
 * says "listening on" (seconds here), so empty TCP connections (no payload: nothing for the daemon or the analysis)
 * probe until the file grows past the 24-byte pcap header.
 */
async function startTcpdump(file: string, port: number): Promise<ChildProcess> {
  const p = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-w', file, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => err.includes('listening on') || p.exitCode !== null, 10_000, 'tcpdump to listen');
  await waitFor(
    async () => {
      if (p.exitCode !== null) return true;
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => s.end(() => resolve()));
        s.on('error', () => resolve());
      });
      await sleep(200);
      return existsSync(file) && statSync(file).size > 24;
    },
    15_000,
    'tcpdump to record',
  );
  if (p.exitCode !== null) throw new Error(`tcpdump failed: ${err}`);
  return p;
}

async function stopTcpdump(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  if (p.pid !== undefined) process.kill(p.pid, 'SIGINT');
  await Promise.race([exited, sleep(5000)]);
  if (p.exitCode === null && p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
}

/** The SDP offer a browser's WebRTC stack makes, shortened (Node has no RTCPeerConnection). */
const BROWSER_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Zx3q',
  'a=ice-pwd:v3Jx8f0S1bJgq5r8yQ1m2n3o',
  'a=fingerprint:sha-256 3A:96:6D:57:B2:C2:C7:61:A0:46:3E:1C:97:39:D3:F7:0A:88:A0:B1:EC:11:34:A5:5C:33:B5:4E:72:0D:2F:90',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  '',
].join('\r\n');

/** SIP.js's session description handler with the browser's media stack replaced by a fixed offer. */
function fixedOfferHandler(): SessionDescriptionHandler {
  return {
    close: () => undefined,
    getDescription: () => Promise.resolve({ body: BROWSER_OFFER, contentType: 'application/sdp' }),
    hasDescription: (contentType: string) => contentType === 'application/sdp',
    setDescription: () => Promise.resolve(),
    sendDtmf: () => false,
  };
}

/** A SIP.js UserAgent (Node 20 has no global WebSocket: the `ws` package plays the browser's). */
async function sipJsCall(wsUrl: string, opts: { from: string; to: string; pai: string }): Promise<{ callId: string; stop(): Promise<void> }> {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${opts.from}@ws.example.test`),
    displayName: 'Browser Phone',
    transportOptions: { server: wsUrl, connectionTimeout: 5 },
    logLevel: 'error',
    logBuiltinEnabled: false,
    noAnswerTimeout: 5,
    sessionDescriptionHandlerFactory: () => fixedOfferHandler(),
  });
  await ua.start();
  const target = UserAgent.makeURI(`sip:${opts.to}@127.0.0.1`);
  if (!target) throw new Error('bad target');
  const inviter = new Inviter(ua, target, { extraHeaders: [`P-Asserted-Identity: <sip:${opts.pai}@ws.example.test>`] });
  await inviter.invite();
  return {
    callId: inviter.request.callId,
    stop: async () => {
      try {
        await inviter.cancel();
      } catch {
        // nothing was answered; the CANCEL may not be sendable
      }
      await ua.stop();
    },
  };
}

describe('SIP over WebSocket: a SIP.js client, live and recorded', () => {
  const tmp = tempDir('spoofwatch-sipws-');
  let daemon: DaemonHandle;
  const alerts: Alert[] = [];

  beforeAll(async () => {
    daemon = await quietDaemon(config(join(tmp.dir, 'alerts.db')), { sinks: [{ name: 'test', deliver: (a: Alert) => void alerts.push(a) }] });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.cleanup();
  });

  it.skipIf(!CAN_CAPTURE)('the INVITE is analysed as transport ws from the ws peer, and identically from a tcpdump of it', async () => {
    const port = daemon.ports.sipWs!;
    expect(port).toBeGreaterThan(0);
    const pcap = join(tmp.dir, 'sip-ws.pcap');
    const dump = await startTcpdump(pcap, port);
    let callId = '';
    try {
      const call = await sipJsCall(`ws://127.0.0.1:${port}/ws`, { from: '+31201234567', to: '+31301234500', pai: '+31205550100' });
      callId = call.callId;
      await waitFor(() => alerts.some((a) => a.call.callId === callId), 10_000, 'alerts of the SIP.js call');
      await sleep(300); // every rule of the INVITE has run
      await call.stop();
      await sleep(300); // the close handshake and FINs reach the capture
    } finally {
      await stopTcpdump(dump);
    }
    const live = alerts.filter((a) => a.call.callId === callId);
    expect(view(live)).toEqual([
      `CLI-NOT-AUTHORIZED +31201234567 ${callId} ws browser-phones`,
      `HDR-PAI-UNTRUSTED +31205550100 ${callId} ws browser-phones`,
    ]);
    expect(live.every((a) => a.network.src.startsWith('127.0.0.1:'))).toBe(true);

    // What SIP.js put on the wire, read back from the capture: one INVITE over ws carrying the browser's SDP offer.
    const seen: SipEvent[] = [];
    await runFiles([pcap], (e) => void seen.push(e), { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} });
    expect(seen.map((e) => `${e.msg.kind === 'request' ? e.msg.method : e.msg.status} ${e.meta.transport} ${e.msg.callId}`)).toEqual([`INVITE ws ${callId}`]);
    expect(seen[0]?.msg.headerAll('content-type')).toEqual(['application/sdp']);
    expect(seen[0]?.msg.headerAll('user-agent')[0]).toMatch(/^SIP\.js\//);

    // The recorded connection, through the CLI as a user runs it.
    const cfgFile = join(tmp.dir, 'spoofwatch.yaml');
    writeFileSync(cfgFile, CONFIG_YAML);
    const r = spawnSync(process.execPath, ['dist/cli.js', 'analyze', '--config', cfgFile, '--format', 'json', pcap], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { alerts: Alert[]; sipMessages: number; anomalies: Record<string, number> };
    expect(view(report.alerts.filter((a) => a.call.callId === callId))).toEqual(view(live));
    expect(view(report.alerts)).toEqual(view(live));
    expect(report.alerts.map((a) => a.network.src)).toEqual(live.map((a) => a.network.src).sort());
  }, 30_000);

  it('refuses what is not SIP over WebSocket, and bounds connections and message sizes, counting each', async () => {
    const port = daemon.ports.sipWs!;
    const status = (path: string, protocols?: string[]): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          resolve(101);
          ws.close();
        });
        ws.on('error', () => undefined);
      });
    expect(await status('/ws', ['chat'])).toBe(400);
    expect(await status('/other', ['sip'])).toBe(404);
    const plain = await fetch(`http://127.0.0.1:${port}/ws`);
    expect(plain.status).toBe(426);

    // A message over maxMessageBytes (8192) closes the connection with 1009.
    const big = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['sip']);
    await new Promise((r) => big.once('open', r));
    const code = new Promise<number>((r) => big.once('close', (c) => r(c)));
    big.send(Buffer.alloc(9000, 0x41));
    expect(await code).toBe(1009);

    // maxConnections: 4 open, the fifth gets 503.
    const open: WebSocket[] = [];
    for (let i = 0; i < 4; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['sip']);
      await new Promise((r) => ws.once('open', r));
      open.push(ws);
    }
    await waitFor(() => daemon.sources().find((s) => s.name === 'sip-ws')?.connections === 4, 5000, '4 connections');
    expect(await status('/ws', ['sip'])).toBe(503);
    for (const ws of open) ws.close();

    const st = daemon.sources().find((s) => s.name === 'sip-ws')!;
    expect(st.counters.anomalies).toMatchObject({
      'ws.no-sip-subprotocol': 1,
      'ws.wrong-path': 1,
      'ws.not-upgrade': 1,
      'ws.message-too-large': 1,
      'ws.connection-limit': 1,
    });
  });

  it('--sip-ws-port turns the listener on with its defaults; it is off without it', () => {
    const base = config(':memory:');
    const off = { ...base, sources: { ...base.sources, sipWs: undefined } };
    expect(applyFlags(off, {}).sources.sipWs).toBeUndefined();
    expect(applyFlags(off, { sipWsPort: 0 }).sources.sipWs).toEqual({ host: '127.0.0.1', port: 0, maxConnections: 1000, maxMessageBytes: 65536 });
    expect(applyFlags(base, { sipWsPort: 5099 }).sources.sipWs).toEqual({ host: '127.0.0.1', port: 5099, path: '/ws', maxConnections: 4, maxMessageBytes: 8192 });
    const d = parseConfig('', 'empty');
    expect(d.ok && d.config.sources.sipWs).toBe(undefined);
  });
});
