/**
 * Issue #18: `analyze` builds each capture's Ingest with the config's `limits.*` (ingestLimitsOf), on one thread and
 * with `--threads 2` (where the decode worker decodes with the same bounds). One capture, read with the limits set
 * low and with the defaults: 3 incomplete fragmented datagrams (`fragments`), 3 TCP flows (`flows`) and a TCP
 * stream sending 2,000 header bytes with no end (`messageBytes`, checked by the stream framer on the main thread).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { PcapngWriter } from '../../src/sources/capture/index.js';
import { LinkType } from '../../src/types.js';
import { fragmentIpv4, IpProto, TcpFlags, tcpPacket, udp } from '../../scripts/lib/packets.js';

const INVITE = Buffer.from(
  'INVITE sip:+31201234567@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKf\r\nFrom: <sip:+31301234567@192.0.2.1>;tag=1\r\n' +
    'To: <sip:+31201234567@192.0.2.10>\r\nCall-ID: frag@test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
);

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoofwatch-analyze-limits-'));
  file = join(dir, 'limits.pcapng');
  const w = new PcapngWriter({ application: 'spoofwatch analyze limits test' });
  let us = 0;
  const add = (bytes: Buffer): void => {
    us += 1000;
    w.add({ ts: { sec: 1_772_359_200, nsec: us * 1000 }, linkType: LinkType.RAW, tsresol: 6, bytes });
  };
  // First fragments only: 3 datagrams wait for the rest.
  for (const id of [1, 2, 3]) add(fragmentIpv4({ src: '192.0.2.1', dst: '192.0.2.10', protocol: IpProto.UDP, payload: udp({ srcPort: 5060, dstPort: 5060, payload: INVITE }), id }, 80)[0]!);
  // Three TCP flows opened.
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) add(tcpPacket(a, 40000, '10.0.0.9', 5060, { seq: 0, flags: TcpFlags.SYN }));
  // A SIP request on a fourth flow whose header section never ends: 2,000 bytes of one header line.
  add(tcpPacket('10.0.0.4', 40000, '10.0.0.9', 5060, { seq: 0, flags: TcpFlags.SYN }));
  const header = Buffer.from(`INVITE sip:a@b SIP/2.0\r\nSubject: ${'x'.repeat(2000)}`);
  for (let off = 0; off < header.length; off += 500) add(tcpPacket('10.0.0.4', 40000, '10.0.0.9', 5060, { seq: 1 + off, flags: TcpFlags.ACK, payload: header.subarray(off, off + 500) }));
  writeFileSync(file, w.toBuffer());
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWith(limits: string): Config {
  const r = parseConfig(limits === '' ? '' : `limits: { ${limits} }`, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

const KINDS = ['frag.evicted', 'tcp.flow-evicted', 'tcp.stream-header-too-large'] as const;
const counted = (anomalies: Record<string, number>) => KINDS.map((k) => anomalies[k] ?? 0);

describe('analyze applies the config limits to its decoder and stream framers', () => {
  for (const threads of [1, 2]) {
    it(`threads ${threads}: fragments 2, flows 2, messageBytes 1024 evict and drop; the defaults keep everything`, async () => {
      const low = await analyzeFiles([file], configWith('fragments: 2, flows: 2, messageBytes: 1024'), undefined, undefined, { threads });
      const dflt = await analyzeFiles([file], configWith(''), undefined, undefined, { threads });
      expect(low.frames).toBe(12);
      expect(dflt.frames).toBe(12);
      // One of 3 datagrams in reassembly evicted; the least recently used of 4 flows evicted when the 4th (the stream)
      // came; the header section dropped once past 1,024 bytes.
      expect(counted(low.anomalies)).toEqual([1, 2, 1]);
      expect(counted(dflt.anomalies)).toEqual([0, 0, 0]);
    });
  }
});
