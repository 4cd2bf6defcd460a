/**
 * The one registry of anomaly kinds (DESIGN.md §3 "Bounds rule": names are `layer.kind`, from one typed registry).
 *
 * An anomaly is a named, counted problem with the input — never an alert by itself; MSG-MALFORMED turns some SIP ones
 * into alerts. Every layer that reports one (decoder, HEP, WebSocket, SIP framer and parser, capture readers,
 * listeners, evidence writer) takes its name from here, so `/metrics` labels, `analyze` summaries, `messages`
 * output and MSG-MALFORMED reasons use the same stable strings. Adding a kind: one line here, with its layer and
 * what it means. This is a leaf module: it imports nothing.
 */

/** The layer that reports an anomaly: the part of its name before the first `.`. */
export type AnomalyLayer =
  | 'link' | 'vlan' | 'pppoe' | 'mpls' | 'erspan' | 'vxlan' | 'gre' | 'encap' | 'ip' | 'ipv4' | 'ipv6' | 'frag'
  | 'udp' | 'tcp' | 'hep' | 'ws' | 'sip' | 'capture' | 'listener' | 'evidence' | 'internal';

interface AnomalyInfo {
  readonly layer: AnomalyLayer;
  /** One line: what was wrong and what was done about it. */
  readonly description: string;
}

const a = (layer: AnomalyLayer, description: string): AnomalyInfo => ({ layer, description });

/** Every anomaly kind, with its layer and a one-line description. */
export const ANOMALIES = {
  // Link and encapsulation layers (src/decode).
  'link.truncated': a('link', 'Frame shorter than its link-layer header.'),
  'vlan.truncated': a('vlan', 'VLAN tag cut short.'),
  'pppoe.truncated': a('pppoe', 'PPPoE session header or PPP protocol field cut short.'),
  'pppoe.bad-header': a('pppoe', 'PPPoE version/type other than 0x11, a non-zero session code, or a length below 2.'),
  'mpls.truncated': a('mpls', 'MPLS label stack (or the pseudowire control word after it) cut short.'),
  'erspan.truncated': a('erspan', 'ERSPAN header cut short.'),
  'erspan.bad-header': a('erspan', 'ERSPAN version that does not match its GRE protocol.'),
  'vxlan.truncated': a('vxlan', 'VXLAN header cut short.'),
  'gre.truncated': a('gre', 'GRE header cut short.'),
  'gre.unsupported': a('gre', 'GRE version other than 0, or the RFC 1701 routing bit.'),
  'encap.too-deep': a('encap', 'More nested encapsulations than the decoder follows.'),
  // IP (RFC 791, RFC 8200) and fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5).
  'ip.bad-version': a('ip', 'IP version nibble is neither 4 nor 6, or not the one the link layer announced.'),
  'ipv4.truncated': a('ipv4', 'Fewer bytes than the IPv4 header (20 bytes, or IHL × 4).'),
  'ipv4.bad-header-length': a('ipv4', 'IHL below 5.'),
  'ipv4.bad-total-length': a('ipv4', 'Total length smaller than the header.'),
  'ipv4.payload-truncated': a('ipv4', 'Captured bytes end before the total length (snaplen); the packet is dropped.'),
  'ipv6.truncated': a('ipv6', 'Fewer bytes than the 40-byte IPv6 header.'),
  'ipv6.payload-truncated': a('ipv6', 'Captured bytes end before the payload length; the packet is dropped.'),
  'ipv6.ext-truncated': a('ipv6', 'An IPv6 extension header (or IPsec AH) runs past the payload.'),
  'frag.overlap-differs': a('frag', 'Overlapping fragments carry different bytes (the first copy is kept).'),
  'frag.inconsistent': a('frag', "Fragments disagree on the datagram's end; the datagram is dropped."),
  'frag.too-large': a('frag', 'Fragments reach beyond 65 535 bytes; the datagram is dropped.'),
  'frag.expired': a('frag', 'Datagram not complete within the timeout (or at end of input); dropped.'),
  'frag.evicted': a('frag', 'Datagram dropped to respect the concurrent-datagram or byte limits.'),
  // UDP (RFC 768).
  'udp.truncated': a('udp', 'Fewer bytes than the 8-byte UDP header.'),
  'udp.bad-length': a('udp', 'UDP length below 8.'),
  'udp.length-mismatch': a('udp', 'UDP length differs from the IP payload length; the smaller is used.'),
  'udp.oversize': a('udp', 'A datagram larger than a listener accepts; dropped.'),
  // TCP (RFC 9293): segments, stream reassembly, connections of the listeners, SIP framing of a stream (RFC 3261 §18.3).
  'tcp.truncated': a('tcp', 'Fewer bytes than the TCP header.'),
  'tcp.bad-header-length': a('tcp', 'Data offset below 5 words or past the segment.'),
  'tcp.overlap-differs': a('tcp', 'Retransmitted or overlapping bytes differ from the first copy (the first copy is kept).'),
  'tcp.gap': a('tcp', 'Bytes never arrived; delivery skipped them and flagged the next payload.'),
  'tcp.buffer-limit': a('tcp', "A flow's (or all flows') out-of-order buffer was full, forcing a hole to be skipped."),
  'tcp.flow-evicted': a('tcp', 'A flow direction was evicted to respect the flow limit.'),
  'tcp.connection-limit': a('tcp', 'A listener refused a connection at its connection limit.'),
  'tcp.reset': a('tcp', 'A connection ended with a socket error (reset).'),
  'tcp.idle-timeout': a('tcp', 'A connection closed after sending nothing for the idle time.'),
  'tcp.stream-gap': a('tcp', 'The SIP framer lost bytes of a stream; buffered bytes were dropped and framing restarts.'),
  'tcp.stream-resync': a('tcp', 'Bytes skipped to reach the next SIP start line of a stream.'),
  'tcp.stream-header-too-large': a('tcp', "A streamed SIP message's header section exceeds the framer's bound; dropped."),
  'tcp.stream-body-too-large': a('tcp', "A streamed SIP message's Content-Length exceeds the framer's bound; dropped."),
  'tcp.stream-evicted': a('tcp', 'A SIP stream framer was dropped to respect the stream limit.'),
  'tcp.stream-buffer-limit': a('tcp', "A stream's bytes would pass the total reassembly budget (limits.reassemblyBytes); its held bytes were dropped and framing resyncs."),
  // HEP v3 (src/decode/hep.ts, the HEP listeners).
  'hep.invalid': a('hep', 'A HEP packet that does not decode (bad magic, lengths or chunks).'),
  'hep.tcp-resync': a('hep', 'Bytes of a HEP TCP feed inside a capture skipped to reach the next HEP packet.'),
  'hep.unsupported-protocol': a('hep', 'A HEP packet of an IP protocol other than UDP, TCP or TLS (e.g. SCTP); counted, not analysed.'),
  'hep.tcp-garbage-bytes': a('hep', 'Bytes between HEP packets on a TCP connection, skipped.'),
  'hep.tcp-garbage-closed': a('hep', 'A HEP TCP connection closed after too many garbage bytes.'),
  'hep.refused-auth-key': a('hep', 'A HEP packet without the configured auth key; dropped.'),
  'hep.refused-capture-id': a('hep', 'A HEP packet from a capture agent id not configured; dropped.'),
  'hep.skipped-not-sip': a('hep', 'A HEP packet whose payload type is not SIP; skipped.'),
  'hep.skipped-unsupported-protocol': a('hep', 'A HEP packet of an IP protocol other than UDP/TCP; skipped.'),
  // WebSocket (RFC 6455, RFC 7118): decoder of captured connections and the SIP-over-WebSocket listener.
  'ws.unmasked-client-frame': a('ws', 'A client frame without a mask (RFC 6455 §5.1: a client MUST mask).'),
  'ws.masked-server-frame': a('ws', 'A masked server frame (RFC 6455 §5.1: a server MUST NOT mask).'),
  'ws.non-minimal-length': a('ws', 'A payload length not in its shortest encoding (RFC 6455 §5.2).'),
  'ws.reserved-bits': a('ws', 'RSV bits set without a negotiated extension.'),
  'ws.reserved-opcode': a('ws', 'A reserved opcode.'),
  'ws.bad-control-frame': a('ws', 'A control frame over 125 bytes or fragmented (RFC 6455 §5.5).'),
  'ws.orphan-continuation': a('ws', 'A continuation frame with no message started.'),
  'ws.interrupted-message': a('ws', 'A new text/binary frame while a fragmented message was open: the open one is dropped.'),
  'ws.message-too-large': a('ws', 'A WebSocket message over the size bound; dropped.'),
  'ws.compressed-unsupported': a('ws', 'RSV1 with permessage-deflate (RFC 7692): compressed messages are not decoded.'),
  'ws.data-after-close': a('ws', 'Bytes after a close frame.'),
  'ws.framing-lost': a('ws', 'Framing lost (invalid header, or TCP bytes missing): the rest of the direction is skipped.'),
  'ws.handshake-too-large': a('ws', 'An opening handshake larger than the bound.'),
  'ws.upgrade-refused': a('ws', 'An Upgrade: websocket request not answered by 101: the flow is framed as plain SIP.'),
  'ws.flow-evicted': a('ws', 'A WebSocket flow was evicted to respect the flow limit.'),
  'ws.buffer-limit': a('ws', 'The budget for unfinished messages of all connections is spent: a message is skipped.'),
  'ws.resync': a('ws', 'Decoding starts again at a frame boundary after lost bytes.'),
  'ws.mid-stream': a('ws', 'A WebSocket connection picked up without its handshake (capture started after it).'),
  'ws.not-upgrade': a('ws', 'An HTTP request to the SIP WebSocket listener that is not an Upgrade; refused.'),
  'ws.bad-handshake': a('ws', 'An opening handshake the listener could not complete; refused.'),
  'ws.wrong-path': a('ws', 'An Upgrade request for another path than the configured one; refused.'),
  'ws.no-sip-subprotocol': a('ws', 'An Upgrade request without the `sip` subprotocol (RFC 7118 §4.1); refused.'),
  'ws.connection-limit': a('ws', 'A WebSocket client refused at the connection limit.'),
  'ws.idle-timeout': a('ws', 'A WebSocket connection closed after sending nothing for the idle time.'),
  'ws.protocol-error': a('ws', 'A WebSocket protocol error from a live client; the connection is closed.'),
  // SIP (RFC 3261 and the identity RFCs): the split, the framer, the lazy header parsers.
  'sip.invalid': a('sip', 'A payload taken for SIP whose start line is unusable; not parsed further.'),
  'sip.duplicate-from': a('sip', 'More than one From header, or several addresses in one (RFC 3261 §20.20).'),
  'sip.duplicate-to': a('sip', 'More than one To header, or several addresses in one (RFC 3261 §20.39).'),
  'sip.duplicate-call-id': a('sip', 'More than one Call-ID header (RFC 3261 §20.8).'),
  'sip.duplicate-cseq': a('sip', 'More than one CSeq header (RFC 3261 §20.16).'),
  'sip.duplicate-content-length': a('sip', 'More than one Content-Length header with different values (RFC 3261 §20.14).'),
  'sip.header-too-long': a('sip', 'A header field line longer than 1 KiB.'),
  'sip.message-too-large': a('sip', 'A message larger than 64 KiB (RFC 3261 §18.1.1).'),
  'sip.nul-in-header': a('sip', 'A NUL byte in the header section.'),
  'sip.bare-cr': a('sip', 'A CR not followed by LF inside a header value (RFC 3261 §7.3.1).'),
  'sip.bare-lf': a('sip', 'A line ended by LF alone in a message otherwise using CRLF.'),
  'sip.header-without-colon': a('sip', 'A header line without a colon; skipped.'),
  'sip.headers-unterminated': a('sip', 'No empty line after the header fields.'),
  'sip.content-length-mismatch': a('sip', 'Content-Length differs from the bytes after the header fields (RFC 3261 §18.3).'),
  'sip.content-length-invalid': a('sip', 'Content-Length that is not a number.'),
  'sip.content-length-missing': a('sip', 'No Content-Length on a stream (RFC 3261 §18.3 requires it); 0 assumed.'),
  'sip.missing-header': a('sip', 'A mandatory header (To, From, Call-ID, CSeq, Via) is absent (RFC 3261 §8.1.1).'),
  'sip.start-line-whitespace': a('sip', 'Tabs or extra SP in the start line (RFC 4475 §3.1.2.9-10).'),
  'sip.start-line-junk': a('sip', 'Bytes that are not token characters before the method.'),
  'sip.version-case': a('sip', '`sip/2.0`: legal (RFC 3261 §7.1, case-insensitive) but sent by no stack.'),
  'sip.method-case': a('sip', 'A standard method in another case (`invite`), taken as that method.'),
  'sip.unsupported-version': a('sip', 'A SIP version other than 2.0.'),
  'sip.identity-uri-invalid': a('sip', 'An identity header (From, To, PAI, PPI, RPID, Diversion, History-Info) without a usable URI.'),
  'sip.identity-header-invalid': a('sip', 'An Identity header that does not parse (RFC 8224 §4).'),
  'sip.display-name-quote': a('sip', 'Escaped or unbalanced quotes around a display name; the URI was still extracted.'),
  'sip.display-name-unquoted': a('sip', 'An unquoted display name with specials; the URI was still extracted.'),
  'sip.name-addr-brackets': a('sip', 'Missing, unterminated or space-padded `<>`; the URI was still extracted.'),
  'sip.name-addr-params': a('sip', 'Header parameters after the URI that do not parse; the ones before the fault were kept.'),
  'sip.cseq-invalid': a('sip', 'A CSeq that does not parse (RFC 3261 §20.16).'),
  'sip.cseq-method-mismatch': a('sip', 'The CSeq method differs from the request method (RFC 3261 §8.1.1.5).'),
  'sip.via-invalid': a('sip', 'A top Via that does not parse (RFC 3261 §20.42).'),
  'sip.request-uri-invalid': a('sip', 'A Request-URI that does not parse.'),
  'sip.request-uri-headers': a('sip', 'Headers in a Request-URI (RFC 3261 §19.1.5 forbids them).'),
  'sip.contact-invalid': a('sip', 'A Contact element that does not parse (repaired when a phone would read it).'),
  'sip.date-invalid': a('sip', 'A Date header not in GMT (RFC 3261 §20.17).'),
  // Capture files and streams (src/sources/capture): one per CaptureErrorCode, and times out of range.
  'capture.empty': a('capture', 'A capture of 0 bytes.'),
  'capture.not-a-capture': a('capture', 'A file without pcap/pcapng magic.'),
  'capture.truncated': a('capture', 'A capture that ends inside a record or block.'),
  'capture.corrupt': a('capture', 'A capture with an impossible length or reference; reading stopped there.'),
  'capture.io': a('capture', 'A capture that could not be read at all.'),
  'capture.error': a('capture', 'A capture that failed for a reason without a code.'),
  'capture.time-out-of-range': a('capture', 'A frame time beyond ±8.64e15 ms (what a JavaScript Date holds).'),
  // Live listeners, evidence, the process itself.
  'listener.refused-source': a('listener', 'A packet or connection from an address outside the listener allowFrom list.'),
  'evidence.unwritable': a('evidence', 'An evidence capture that could not be written.'),
  'internal.error': a('internal', 'An unexpected error while handling input; counted, processing goes on.'),
} as const satisfies Record<string, AnomalyInfo>;

/** A registered anomaly name, `layer.kind`. */
export type AnomalyKind = keyof typeof ANOMALIES;

/** Whether `kind` is a registered anomaly name. */
export function isAnomalyKind(kind: string): kind is AnomalyKind {
  return Object.prototype.hasOwnProperty.call(ANOMALIES, kind);
}

/** Count one (or `n`) anomalies of `kind` into a per-kind counter map. */
export function countAnomaly(into: Record<string, number>, kind: AnomalyKind, n = 1): void {
  into[kind] = (into[kind] ?? 0) + n;
}

/** The anomaly of a capture-reading error code (`CAPTURE_TRUNCATED` → `capture.truncated`). */
export function captureAnomaly(code: string | undefined): AnomalyKind {
  switch (code) {
    case 'CAPTURE_EMPTY':
      return 'capture.empty';
    case 'CAPTURE_NOT_A_CAPTURE':
      return 'capture.not-a-capture';
    case 'CAPTURE_TRUNCATED':
      return 'capture.truncated';
    case 'CAPTURE_CORRUPT':
      return 'capture.corrupt';
    case 'CAPTURE_IO':
      return 'capture.io';
    default:
      return 'capture.error';
  }
}
