/**
 * Splitting a capture by Call-ID for the scale-out tests (issue #22): tshark names each frame's Call-ID and TCP
 * stream; a TCP frame without SIP (handshake, ACKs) goes with the calls its stream carries.
 */
import { spawnSync } from 'node:child_process';

/** Call-IDs of the capture's frames, in frame order (`frameCalls[i]` = the calls frame i + 1 belongs to). */
export function frameCalls(pcap: string): string[][] {
  const r = spawnSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'frame.number', '-e', 'sip.Call-ID', '-e', 'tcp.stream'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
  const byStream = new Map<string, Set<string>>();
  for (const [, call, stream] of rows) {
    if (call && stream) {
      const s = byStream.get(stream) ?? new Set<string>();
      for (const c of call.split(',')) s.add(c);
      byStream.set(stream, s);
    }
  }
  return rows.map(([, call, stream]) => (call ? call.split(',') : stream ? [...(byStream.get(stream) ?? [])] : []));
}

/** Write the frames of `calls` from `pcap` to `out` (pcapng), in capture order. Returns the number of frames. */
export function writeCalls(pcap: string, calls: ReadonlySet<string>, out: string): number {
  const frames = frameCalls(pcap)
    .map((cs, i) => (cs.some((c) => calls.has(c)) ? i + 1 : 0))
    .filter((n) => n > 0);
  const r = spawnSync('tshark', ['-r', pcap, '-Y', `frame.number in {${frames.join(',')}}`, '-w', out, '-F', 'pcapng'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return frames.length;
}
