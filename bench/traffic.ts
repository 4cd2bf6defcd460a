/**
 * Synthetic lab traffic for `npm run bench` (issue #5): realistic SIP calls between the peers of the embedded
 * default config (DESIGN.md §5) so that peer lookup, identity parsing and every initial-INVITE rule run for
 * real, with a small share of spoofed calls that raise alerts.
 *
 * The model is a deterministic time wheel: one call starts per slot (5 ms of capture time, 200 calls/s) and
 * every later message of a call is emitted a fixed number of slots after its INVITE, so the output is in
 * capture-time order without a queue, calls overlap like real traffic (≈6000 in progress), and a slice of
 * the first N messages of a long run is the same bytes as a short run.
 */

/** Where a call comes from; addresses are the default config's lab peers. */
interface CallKind {
  readonly peer: string;
  readonly ip: string;
  /** Caller number (E.164) for call i. */
  readonly from: (i: number) => string;
  /** P-Asserted-Identity, when the peer sends one. */
  readonly pai?: (i: number) => string;
  readonly display?: string;
  /** Expected to raise at least one alert. */
  readonly spoof: boolean;
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
/** A spread of distinct numbers: consecutive calls never share a CLI (no velocity or neighbour effects). */
const spread = (i: number, mod: number): number => (i * 7919) % mod;

/** 0..99 independent of i % 100 (which picks the kind), so a peer's calls use its whole block. */
const slow = (i: number): number => Math.floor(i / 100) % 100;

const KINDS: readonly CallKind[] = [
  // pbx-acme: employees present their own DDI (authorised), PAI equal.
  { peer: 'pbx-acme', ip: '127.0.0.10', from: (i) => `+312055501${pad(slow(i), 2)}`, pai: (i) => `+312055501${pad(slow(i), 2)}`, spoof: false },
  // carrier-nl: national transit, Dutch mobile callers.
  { peer: 'carrier-nl', ip: '127.0.0.11', from: (i) => `+3165${pad(spread(i, 1e7), 7)}`, pai: (i) => `+3165${pad(spread(i, 1e7), 7)}`, spoof: false },
  // carrier-intl: German fixed-line callers (legitimate from abroad).
  { peer: 'carrier-intl', ip: '127.0.0.12', from: (i) => `+4930${pad(spread(i, 1e7), 7)}`, spoof: false },
  // lawfirm-pbx: its own block, PAI equal.
  { peer: 'lawfirm-pbx', ip: '127.0.0.14', from: (i) => `+317034567${pad(slow(i), 2)}`, pai: (i) => `+317034567${pad(slow(i), 2)}`, spoof: false },
  // SPOOF: the untrusted subscriber presents a number it does not own (CLI-NOT-AUTHORIZED).
  { peer: 'access-untrusted', ip: '127.0.0.13', from: (i) => `+3120${pad(spread(i, 1e7), 7)}`, spoof: true },
  // SPOOF: an unknown source (SRC-UNKNOWN-PEER).
  { peer: 'unknown', ip: '127.0.0.99', from: (i) => `+3165${pad(spread(i, 1e7), 7)}`, spoof: true },
];

/** Which kind call i is: 1% acme, 60% carrier-nl, 30% intl, 7% lawfirm, 1% + 1% spoofs. */
function kindOf(i: number): CallKind {
  const r = (i * 37) % 100;
  if (r < 1) return KINDS[0]!;
  if (r < 61) return KINDS[1]!;
  if (r < 91) return KINDS[2]!;
  if (r < 98) return KINDS[3]!;
  if (r < 99) return KINDS[4]!;
  return KINDS[5]!;
}

/** The fixed IP of the lab's SIP server (peer `local`): it answers every call. */
export const UAS_IP = '127.0.0.1';
export const UAS_PORT = 5060;
export const PEER_PORT = 5060;

/** Slot length in ns of capture time; one call starts per slot. */
export const SLOT_NS = 5_000_000;

/** A SIP message of the model, with its addressing. */
export interface SipPacket {
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly text: string;
  /** Call index and whether it is the INVITE of a call expected to alert (latency probes). */
  readonly call: number;
  readonly spoofInvite: boolean;
  readonly callId: string;
}

interface Call {
  readonly i: number;
  readonly kind: CallKind;
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly fromTag: string;
  readonly toTag: string;
  readonly branch: string;
  /** Busy calls end with 486 (ACK in the same transaction, no BYE). */
  readonly busy: boolean;
}

export function callOf(i: number, run = 'b'): Call {
  const kind = kindOf(i);
  return {
    i,
    kind,
    callId: `${run}${i.toString(36)}-${pad(spread(i, 1e6), 6)}@${kind.ip}`,
    from: kind.from(i),
    to: `+313012345${pad(i % 100, 2)}`,
    fromTag: `f${(i * 2654435761) >>> 0}`,
    toTag: `t${(i * 40503) >>> 0}`,
    branch: `z9hG4bK${i.toString(36)}`,
    busy: i % 10 === 7,
  };
}

const SDP = (ip: string, port: number): string =>
  `v=0\r\no=- 1 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8 101\r\n` +
  `a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n`;

function invite(c: Call): string {
  const ip = c.kind.ip;
  const sdp = SDP(ip, 20000 + (c.i % 10000) * 2);
  const disp = c.kind.display !== undefined ? `"${c.kind.display}" ` : '';
  const pai = c.kind.pai ? `P-Asserted-Identity: <sip:${c.kind.pai(c.i)}@${ip};user=phone>\r\n` : '';
  return (
    `INVITE sip:${c.to}@${UAS_IP}:${UAS_PORT};user=phone SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${ip}:${PEER_PORT};branch=${c.branch};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: ${disp}<sip:${c.from}@${ip};user=phone>;tag=${c.fromTag}\r\n` +
    `To: <sip:${c.to}@${UAS_IP};user=phone>\r\n` +
    `Call-ID: ${c.callId}\r\n` +
    `CSeq: 1 INVITE\r\n` +
    `Contact: <sip:${c.from}@${ip}:${PEER_PORT}>\r\n` +
    pai +
    `Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK\r\n` +
    `Supported: timer, 100rel\r\n` +
    `User-Agent: LabGW/2.4\r\n` +
    `Content-Type: application/sdp\r\n` +
    `Content-Length: ${Buffer.byteLength(sdp)}\r\n\r\n` +
    sdp
  );
}

function response(c: Call, status: number, reason: string, method: string, cseq: number, toTag: boolean, sdp: boolean): string {
  const ip = c.kind.ip;
  const body = sdp ? SDP(UAS_IP, 30000 + (c.i % 10000) * 2) : '';
  const branch = method === 'BYE' ? `${c.branch}b` : c.branch;
  return (
    `SIP/2.0 ${status} ${reason}\r\n` +
    `Via: SIP/2.0/UDP ${ip}:${PEER_PORT};branch=${branch};rport=${PEER_PORT};received=${ip}\r\n` +
    `From: <sip:${c.from}@${ip};user=phone>;tag=${c.fromTag}\r\n` +
    `To: <sip:${c.to}@${UAS_IP};user=phone>${toTag ? `;tag=${c.toTag}` : ''}\r\n` +
    `Call-ID: ${c.callId}\r\n` +
    `CSeq: ${cseq} ${method}\r\n` +
    (status >= 180 && status < 300 ? `Contact: <sip:${c.to}@${UAS_IP}:${UAS_PORT}>\r\n` : '') +
    `Server: spoofwatch-lab-uas\r\n` +
    (sdp ? `Content-Type: application/sdp\r\n` : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

function inDialog(c: Call, method: 'ACK' | 'BYE', cseq: number, branch: string): string {
  const ip = c.kind.ip;
  return (
    `${method} sip:${c.to}@${UAS_IP}:${UAS_PORT} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${ip}:${PEER_PORT};branch=${branch};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:${c.from}@${ip};user=phone>;tag=${c.fromTag}\r\n` +
    `To: <sip:${c.to}@${UAS_IP};user=phone>;tag=${c.toTag}\r\n` +
    `Call-ID: ${c.callId}\r\n` +
    `CSeq: ${cseq} ${method}\r\n` +
    `User-Agent: LabGW/2.4\r\n` +
    `Content-Length: 0\r\n\r\n`
  );
}

/** Slot offsets (after the INVITE's slot) of each later message of a call. */
const STEPS = [
  { at: 0, step: 'invite' },
  { at: 1, step: '100' },
  { at: 40, step: '180' }, // 200 ms
  { at: 600, step: 'final' }, // 3 s ringing
  { at: 601, step: 'ack' },
  { at: 6600, step: 'bye' }, // 30 s talk
  { at: 6601, step: 'bye200' },
] as const;

function packet(c: Call, step: (typeof STEPS)[number]['step']): SipPacket | undefined {
  const fromPeer = (text: string, spoofInvite = false): SipPacket => ({
    srcIp: c.kind.ip,
    srcPort: PEER_PORT,
    dstIp: UAS_IP,
    dstPort: UAS_PORT,
    text,
    call: c.i,
    spoofInvite,
    callId: c.callId,
  });
  const toPeer = (text: string): SipPacket => ({ srcIp: UAS_IP, srcPort: UAS_PORT, dstIp: c.kind.ip, dstPort: PEER_PORT, text, call: c.i, spoofInvite: false, callId: c.callId });
  switch (step) {
    case 'invite':
      return fromPeer(invite(c), c.kind.spoof);
    case '100':
      return toPeer(response(c, 100, 'Trying', 'INVITE', 1, false, false));
    case '180':
      return toPeer(response(c, 180, 'Ringing', 'INVITE', 1, true, false));
    case 'final':
      return toPeer(c.busy ? response(c, 486, 'Busy Here', 'INVITE', 1, true, false) : response(c, 200, 'OK', 'INVITE', 1, true, true));
    case 'ack':
      return fromPeer(inDialog(c, 'ACK', 1, c.busy ? c.branch : `${c.branch}a`));
    case 'bye':
      return c.busy ? undefined : fromPeer(inDialog(c, 'BYE', 2, `${c.branch}b`));
    case 'bye200':
      return c.busy ? undefined : toPeer(response(c, 200, 'OK', 'BYE', 2, true, false));
  }
}

/**
 * The SIP messages of slot s in order (each at the slot's capture time). Only calls with an index in
 * [firstCall, lastCall) are played: a live phase starting at slot `firstCall` uses callers no earlier phase used
 * (so windowed rules such as CLI-VELOCITY do not see one phase's numbers again in the next).
 */
export function slotMessages(s: number, lastCall: number, run = 'b', firstCall = 0): SipPacket[] {
  const out: SipPacket[] = [];
  for (const { at, step } of STEPS) {
    const i = s - at;
    if (i < firstCall || i >= lastCall) continue;
    const p = packet(callOf(i, run), step);
    if (p) out.push(p);
  }
  return out;
}

/** Messages per call on average (busy calls have 5, answered ones 7). */
export const MESSAGES_PER_CALL = 0.9 * 7 + 0.1 * 5;

/** Slot count after the last call start until every call has ended. */
export const DRAIN_SLOTS = STEPS[STEPS.length - 1]!.at + 1;
