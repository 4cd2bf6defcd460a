/**
 * Differential test against tshark (the oracle, DESIGN.md §6): on every capture in test/captures/ (decoder test
 * captures) and captures/ (the labelled labs), the SIP messages `spoofwatch messages` reports must be exactly those
 * tshark dissects — per frame the same Call-IDs, methods or status codes, From users and P-Asserted-Identity users.
 *
 * Two documented tshark 4.0 limitations are applied to our side before comparing (never the other way round):
 * tshark reads only the FIRST URI of a comma-separated P-Asserted-Identity line, and reports `sip.pai.user` only
 * for sip:/sips: URIs (a tel: PAI has no user field). When a frame carries several messages (TCP), tshark prints
 * each field's values joined by '|' and drops absent ones, so values are compared per frame as sorted lists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFiles } from '../../src/commands/analyze.js';
import { messageJson } from '../../src/commands/message-json.js';
import type { SipEvent } from '../../src/pipeline/ingest.js';
import { parseNameAddr, parseUri, splitList } from '../../src/sip/index.js';

const HAVE_TSHARK = spawnSync('tshark', ['-v']).status === 0;
if (!HAVE_TSHARK) console.warn('tshark missing: differential tests skipped (apt-get install -y tshark); CI installs it');

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(name)) out.push(p);
  }
  return out;
}

const OPTIONS: Record<string, string[]> = JSON.parse(readFileSync('test/captures/crafted/tshark-options.json', 'utf8'));
/** Crafted captures that carry no SIP on purpose (expected.json says 0 messages): both sides must find none. */
const NO_SIP = new Set(
  Object.entries(JSON.parse(readFileSync('test/captures/crafted/expected.json', 'utf8')) as Record<string, { sipMessages: number }>)
    .filter(([, e]) => e.sipMessages === 0)
    .map(([f]) => join('test/captures', 'crafted', f)),
);

/** Extra tshark args of a capture: test/captures/crafted/tshark-options.json, or a tshark-options.json in its own folder. */
function tsharkOptions(file: string): string[] {
  const name = file.split('/').pop()!;
  const own = join(dirname(file), 'tshark-options.json');
  if (dirname(file) !== 'test/captures/crafted' && existsSync(own)) {
    const opts = (JSON.parse(readFileSync(own, 'utf8')) as Record<string, string[]>)[name];
    if (opts) return opts;
  }
  return OPTIONS[name] ?? [];
}

/**
 * tshark 4.0 has no HEP dissector (v1, v2 or v3): a HEP capture in test/captures/crafted/hep/ is compared with its twin in
 * test/captures/crafted/hep/twin/ — the same SIP messages in the same frames without HEP (scripts/make-hep-captures.ts).
 */
const tsharkFileFor = (file: string): string => file.replace(/(crafted\/hep\/)(?!twin\/)/, '$1twin/');

interface FrameView {
  callIds: string[];
  kinds: string[];
  fromUsers: string[];
  paiUsers: string[];
}

function sorted(xs: string[]): string[] {
  return xs.filter((x) => x !== '').sort();
}

function tsharkView(file: string): Map<number, FrameView> {
  const args = ['-r', file, ...tsharkOptions(file), '-Y', 'sip', '-T', 'fields', '-E', 'aggregator=|', '-E', 'occurrence=a'];
  for (const f of ['frame.number', 'sip.Call-ID', 'sip.Method', 'sip.Status-Code', 'sip.from.user', 'sip.pai.user']) args.push('-e', f);
  const text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<number, FrameView>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [frame, callIds, methods, statuses, from, pai] = line.split('\t').map((f) => f ?? '');
    m.set(Number(frame), {
      callIds: sorted((callIds ?? '').split('|')),
      kinds: sorted([...(methods ?? '').split('|'), ...(statuses ?? '').split('|')]),
      fromUsers: sorted((from ?? '').split('|')),
      paiUsers: [...new Set(sorted((pai ?? '').split('|')))],
    });
  }
  return m;
}

/** PAI users as tshark 4.0 reports them: first URI of each header line, sip:/sips: only. */
function tsharkStylePaiUsers(e: SipEvent): string[] {
  const out: string[] = [];
  for (const line of e.msg.headerAll('p-asserted-identity')) {
    const first = splitList(line)[0];
    if (!first) continue;
    const na = parseNameAddr(first);
    const uri = na.kind === 'name-addr' ? na.uri : parseUri(first.trim());
    if (uri.kind === 'sip' && uri.user) out.push(uri.user);
  }
  return out;
}

async function ourView(file: string): Promise<{ view: Map<number, FrameView>; json: Record<string, unknown>[] }> {
  const view = new Map<number, FrameView>();
  const json: Record<string, unknown>[] = [];
  const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} };
  await runFiles([file], (e) => {
    const j = messageJson(e);
    json.push(j);
    const v = view.get(e.meta.frame) ?? { callIds: [], kinds: [], fromUsers: [], paiUsers: [] };
    v.callIds.push(e.msg.callId ?? '');
    v.kinds.push(e.msg.kind === 'request' ? e.msg.method : String(e.msg.status));
    // tshark reports every From header line (a duplicate From is an anomaly we flag; tshark lists both).
    const fromLines = e.msg.headerAll('from');
    if (fromLines.length > 1) {
      for (const line of fromLines) {
        const na = parseNameAddr(line);
        v.fromUsers.push(na.kind === 'name-addr' && na.uri.kind === 'sip' ? (na.uri.user ?? '') : '');
      }
    } else {
      const from = j['from'] as { user?: string } | null;
      v.fromUsers.push(from?.user ?? '');
    }
    v.paiUsers.push(...tsharkStylePaiUsers(e));
    view.set(e.meta.frame, v);
  }, report);
  for (const v of view.values()) {
    v.callIds = sorted(v.callIds);
    v.kinds = sorted(v.kinds);
    v.fromUsers = sorted(v.fromUsers);
    v.paiUsers = [...new Set(sorted(v.paiUsers))];
  }
  return { view, json };
}

describe.skipIf(!HAVE_TSHARK)('spoofwatch messages = tshark on every capture', () => {
  const files = [...captures('test/captures'), ...captures('captures')];
  it('covers the captures the issue asks for', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    // Issue #16: every link and tunnel layer of point 4, the modified pcap, NetMon 2.x, and the no-SIP LLDP file.
    for (const name of [
      'pppoe.pcap',
      'mpls.pcap',
      'mpls-multicast.pcap',
      'mpls-pw.pcap',
      'erspan-ii.pcap',
      'erspan-iii.pcap',
      'vxlan.pcap',
      'pcap-kuznetzov.pcap',
      'netmon2.cap',
      'lldp.pcap',
    ]) {
      expect(files).toContain(join('test/captures', 'crafted', name));
    }
    expect([...NO_SIP]).toEqual([join('test/captures', 'crafted', 'lldp.pcap')]);
  });
  for (const file of files) {
    it(file, async () => {
      const theirs = tsharkView(tsharkFileFor(file));
      const { view } = await ourView(file);
      if (NO_SIP.has(file)) expect(theirs.size).toBe(0);
      else expect(theirs.size).toBeGreaterThan(0);
      expect(Object.fromEntries(view)).toEqual(Object.fromEntries(theirs));
    });
  }
});

describe.skipIf(!HAVE_TSHARK)('the messages command prints what the differential test compared', () => {
  it('CLI output equals the in-process NDJSON for a TCP capture', async () => {
    const file = 'test/captures/sipp-tcp.pcapng';
    const cli = execFileSync(process.execPath, ['dist/cli.js', 'messages', file], { encoding: 'utf8' });
    const { json } = await ourView(file);
    expect(cli).toBe(json.map((j) => JSON.stringify(j) + '\n').join(''));
    expect(json).toHaveLength(60);
  });
});
