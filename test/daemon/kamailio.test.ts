/**
 * Issue #16 point 6, real client: Kamailio 5.6 from Debian (`apt-get install -y kamailio`; .ci/run installs it) runs
 * on loopback as a stateless proxy with `siptrace` in HEP mode — hep_version 1, 2 and 3, to the daemon's HEP port
 * over UDP and over TCP. SIPp calls go through it from several lab peers (spoofed ones included); tcpdump records what
 * Kamailio receives on its SIP port (exactly the messages siptrace reports). The daemon must raise, from HEP, exactly
 * the alerts `analyze` raises on that capture, compared by (Call-ID, rule, severity, presented number).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import type { Alert } from '../../src/alerts/alert.js';
import { hasBinary, labConfig, quietDaemon, sleep, tempDir, waitFor } from './helpers.js';

const HAVE = hasBinary('kamailio') && hasBinary('sipp') && hasBinary('tcpdump') && process.getuid?.() === 0;
if (!HAVE) {
  console.warn('kamailio, sipp or tcpdump missing (or not root): Kamailio HEP test skipped (apt-get install -y kamailio sip-tester tcpdump); CI runs it');
}

/** A free loopback port for both UDP and TCP (bound and released; other suites run at the same time, so retried). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** Kamailio as a stateless proxy: everything to the UAS, every message it receives traced as HEP. */
function kamailioCfg(o: { sipPort: number; uasPort: number; hepPort: number; hepTransport: 'udp' | 'tcp'; hepVersion: 1 | 2 | 3; ipv6: boolean }): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
dns=no
rev_dns=no
auto_aliases=no
listen=udp:127.0.0.1:${o.sipPort}
listen=tcp:127.0.0.1:${o.sipPort}${o.ipv6 ? `
listen=udp:[::1]:${o.sipPort}
listen=tcp:[::1]:${o.sipPort}` : ''}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "siptrace.so"
modparam("siptrace", "duplicate_uri", "sip:127.0.0.1:${o.hepPort};transport=${o.hepTransport}")
modparam("siptrace", "hep_mode_on", 1)
modparam("siptrace", "hep_version", ${o.hepVersion})
modparam("siptrace", "hep_capture_id", 2001)
modparam("siptrace", "trace_on", 1)
modparam("siptrace", "trace_to_database", 0)

request_route {
  # Readiness probe of the test (OPTIONS without a user): answered, not traced.
  if (method == "OPTIONS" && $rU == $null) {
    sl_send_reply("200", "ready");
    exit;
  }
  sip_trace();
  # A log line to the collector (HEP3 payload type 100, whatever hep_version says): counted, never SIP.
  hlog("$ci", "spoofwatch-test relaying $rm");
  $du = "sip:${o.ipv6 ? '[::1]' : '127.0.0.1'}:${o.uasPort}";
  forward();
  exit;
}

onreply_route {
  sip_trace();
}
`;
}

/** A SIPp UAC scenario: INVITE (From, optional PAI and display name), ACK, BYE. */
function uacScenario(o: { from: string; pai?: string; display?: string; to: string }): string {
  const disp = o.display ? `"${o.display}" ` : '';
  const common = (method: string, cseq: string) => `
      ${method} sip:${o.to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${disp}<sip:${o.from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${o.to}@[remote_ip]:[remote_port]>${method === 'INVITE' ? '' : '[peer_tag_param]'}
      Call-ID: [call_id]
      CSeq: ${cseq}
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="spoofwatch kamailio uac">
  <send retrans="500"><![CDATA[${common('INVITE', '1 INVITE')}${o.pai ? `
      P-Asserted-Identity: <sip:${o.pai}@[local_ip]>` : ''}
      User-Agent: SIPp spoofwatch-kamailio
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[${common('ACK', '1 ACK')}
      Content-Length: 0
    ]]></send>
  <send retrans="500"><![CDATA[${common('BYE', '2 BYE')}
      Content-Length: 0
    ]]></send>
  <recv response="200"/>
</scenario>
`;
}

/** Calls from the lab peers of captures/scenario/spoofwatch.yaml: legitimate and spoofed. */
const CALLS = [
  // untrusted subscriber presenting a lawyer's protected number and asserting a bank's inbound-only number
  { src: '127.0.0.13', from: '+31703456789', pai: '+31201234000', display: 'Example Bank', to: '+31301234501' },
  // the ACME PBX presenting its general number with its DDI as PAI (legitimate)
  { src: '127.0.0.10', from: '+31881234567', pai: '+31205550100', to: '+31301234502' },
  // the international interconnect carrying a Dutch mobile number
  { src: '127.0.0.12', from: '+31612345678', to: '+31301234503' },
  // a source that is no configured peer, presenting the callee's own number
  { src: '127.0.0.20', from: '+31301234504', to: '+31301234504' },
] as const;

interface Proc {
  readonly child: ChildProcess;
  readonly out: { text: string };
  readonly exited: Promise<number | null>;
}

function run(cmd: string, args: readonly string[], cwd?: string): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  const out = { text: '' };
  child.stdout?.on('data', (b: Buffer) => (out.text = (out.text + b.toString()).slice(-20_000)));
  child.stderr?.on('data', (b: Buffer) => (out.text = (out.text + b.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exited };
}

/** Stop a process we started, by its pid: `signal`, then SIGKILL if it has not exited within 3 s. */
async function stop(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
  await p.exited;
  clearTimeout(t);
}

/** Send an OPTIONS without a user until Kamailio answers (its workers are up). */
async function kamailioReady(port: number, kam: Proc): Promise<void> {
  const sock = createSocket('udp4');
  let answered = false;
  sock.on('message', (m) => {
    if (m.toString('latin1').startsWith('SIP/2.0 200')) answered = true;
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const lport = sock.address().port;
  try {
    for (let i = 0; !answered; i++) {
      if (i > 100 || kam.child.exitCode !== null) throw new Error('kamailio did not answer');
      const msg = `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK-ready-${i}\r\nFrom: <sip:probe@127.0.0.1>;tag=r\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready-${i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 1\r\nContent-Length: 0\r\n\r\n`;
      sock.send(msg, port, '127.0.0.1');
      await sleep(100);
    }
  } finally {
    sock.close();
  }
}

const key = (a: Alert) => `${a.call.callId} ${a.rule} ${a.severity} ${a.presented.number ?? '-'}`;

describe.skipIf(!HAVE)('Kamailio siptrace (HEP v1/v2/v3, UDP/TCP) → daemon = analyze on a tcpdump of the same calls', () => {
  const t = tempDir('spoofwatch-kamailio-');
  /** Alerts analyze raises: the same in every variant of one signalling family. */
  const baseline = new Map<boolean, number>();
  beforeAll(() => {
    CALLS.forEach((c, i) => writeFileSync(join(t.dir, `uac${i}.xml`), uacScenario(c)));
  });
  afterAll(() => t.cleanup());

  // Every version over both feeds with IPv4 signalling, and two with IPv6 signalling (the 40-byte v1/v2 address block).
  const variants = [
    ...(['udp', 'tcp'] as const).flatMap((hepTransport) => ([1, 2, 3] as const).map((hepVersion) => ({ hepTransport, hepVersion, ipv6: false }))),
    { hepTransport: 'udp', hepVersion: 2, ipv6: true },
    { hepTransport: 'tcp', hepVersion: 1, ipv6: true },
  ] as const;
  for (const { hepTransport, hepVersion, ipv6 } of variants) {
    it(`hep_version ${hepVersion} over ${hepTransport.toUpperCase()}${ipv6 ? ', IPv6 signalling' : ''}`, async () => {
      const dir = join(t.dir, `v${hepVersion}-${hepTransport}${ipv6 ? '-ipv6' : ''}`);
      mkdirSync(join(dir, 'run'), { recursive: true });
      const config = labConfig({ store: join(dir, 'alerts.db') });
      const d = await quietDaemon(config);
      let kam: Proc | undefined;
      let uas: Proc | undefined;
      let dump: Proc | undefined;
      const pcap = join(dir, 'sip.pcap');
      try {
        const hepPort = hepTransport === 'udp' ? d.ports.hepUdp! : d.ports.hepTcp!;
        const sipPort = await freePort();
        const uasPort = await freePort();
        writeFileSync(join(dir, 'kamailio.cfg'), kamailioCfg({ sipPort, uasPort, hepPort, hepTransport, hepVersion, ipv6 }));
        kam = run('kamailio', ['-DD', '-E', '-f', join(dir, 'kamailio.cfg'), '-Y', join(dir, 'run'), '-P', join(dir, 'run', 'kamailio.pid')]);
        uas = run('sipp', ['-sn', 'uas', '-i', ipv6 ? '::1' : '127.0.0.1', '-p', String(uasPort), '-nostdin', '-timeout', '20s']);
        await kamailioReady(sipPort, kam).catch((e: Error) => {
          throw new Error(`${e.message}:\n${kam?.out.text}`);
        });
        // What Kamailio receives on its SIP port (after the readiness probe): exactly what siptrace reports.
        dump = run('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-n', '-w', pcap, `udp and dst port ${sipPort}`]);
        await waitFor(() => dump!.out.text.includes('listening on'), 5000, 'tcpdump listening');
        const uacPorts = await Promise.all(CALLS.map(() => freePort()));
        const uacs = CALLS.map((c, i) =>
          run('sipp', [
            '-sf', join(t.dir, `uac${i}.xml`), ipv6 ? `[::1]:${sipPort}` : `127.0.0.1:${sipPort}`, '-i', ipv6 ? '::1' : c.src, '-p', String(uacPorts[i]), '-m', '1', '-nostdin', '-timeout', '10s', '-timeout_error',
          ]),
        );
        const codes = await Promise.all(uacs.map((u) => u.exited));
        expect(codes, uacs.map((u) => u.out.text.slice(-500)).join('\n')).toEqual([0, 0, 0, 0]);
        await sleep(300); // the last 200 OK's HEP copy
        await stop(kam);
        await stop(uas);
        // tcpdump may still be reading the last packets on a loaded host (once 23 of 24 were written): stop it when
        // its file has stopped growing (bounded), not at a fixed time.
        for (let last = -1, end = Date.now() + 3000; Date.now() < end; ) {
          const size = statSync(pcap).size;
          if (size === last) break;
          last = size;
          await sleep(200);
        }
        await stop(dump, 'SIGINT');

        const offline = await analyzeFiles([pcap], config);
        // 4 calls × INVITE, 180, 200, ACK, BYE, 200 as Kamailio received them (a UDP retransmission would add a copy,
        // on both sides alike).
        expect(offline.sipMessages, dump.out.text).toBeGreaterThanOrEqual(24);
        if (!baseline.has(ipv6)) baseline.set(ipv6, offline.alerts.length);
        expect(offline.alerts.length).toBe(baseline.get(ipv6));
        const want = offline.alerts.map(key).sort();
        await waitFor(() => d.store.lastSeq() >= want.length, 10_000, `${want.length} alerts stored`);
        await sleep(200); // nothing more may come
        const got = d.store.query({ limit: 1000 });
        expect(got.map(key).sort()).toEqual(want);
        // The spoofed calls are among them.
        const rules = new Set(got.map((a) => a.rule));
        // (IPv6 signalling comes from ::1, which is no configured peer.)
        const spoofRules = ipv6 ? ['SRC-UNKNOWN-PEER', 'CLI-CALLED-AS-CALLER'] : ['CLI-PROTECTED', 'HDR-PAI-UNTRUSTED', 'SRC-UNKNOWN-PEER', 'REG-INTL-NATIONAL-CLI', 'CLI-CALLED-AS-CALLER'];
        for (const r of spoofRules) expect(rules, r).toContain(r);
        if (ipv6) expect(got.every((a) => a.network.src.startsWith('::1'))).toBe(true);
        // Every alert names the agent that reported it (address; capture id from v2 on).
        for (const a of got) {
          expect(a.network.origin).toBe(`hep-${hepTransport}`);
          expect(a.network.agent?.address).toMatch(hepTransport === 'udp' ? new RegExp(`^127\\.0\\.0\\.1:${sipPort}$`) : /^127\.0\.0\.1:\d+$/);
          expect(a.network.agent?.captureId).toBe(hepVersion === 1 ? undefined : 2001);
        }
        const hep = d.sources().find((s) => s.name === `hep-${hepTransport}`)!;
        // One hlog() line per request Kamailio relayed (INVITE, ACK, BYE of 4 calls, and retransmissions if any).
        const requests = Object.values(offline.byMethod).reduce((a, b) => a + b, 0);
        expect(requests).toBeGreaterThanOrEqual(12);
        expect(hep.hepNotSip).toEqual({ '100': requests });
        expect(hep.counters.hepPackets).toBe(offline.sipMessages + requests);
        expect(hep.counters.sipMessages).toBe(offline.sipMessages);
        expect(hep.counters.anomalies).toEqual({});
        expect(d.health().ok).toBe(true);
      } finally {
        await stop(kam);
        await stop(uas);
        await stop(dump, 'SIGINT');
        await d.stop();
      }
    }, 30_000);
  }
});
