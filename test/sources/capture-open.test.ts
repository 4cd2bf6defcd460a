import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture, readCapture } from '../../src/sources/capture/open.js';
import { PcapngWriter, PcapWriter } from '../../src/sources/capture/writer.js';
import type { Frame } from '../../src/types.js';
import { plain, type PlainFrame } from './capture-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 300 packets of 1..300 bytes over two interfaces: enough to span many read chunks. */
function sample(): { file: Buffer; expected: PlainFrame[] } {
  const w = new PcapngWriter();
  const expected: PlainFrame[] = [];
  for (let i = 1; i <= 300; i++) {
    const bytes = Buffer.alloc(i, i & 0xff);
    const ts = { sec: 1700000000 + i, nsec: i * 1001 };
    const linkType = i % 2 === 0 ? 1 : 101;
    w.add({ ts, bytes, linkType, tsresol: 9 });
    expected.push({
      number: i,
      sec: ts.sec,
      nsec: ts.nsec,
      linkType,
      iface: i === 1 ? 0 : i % 2 === 0 ? 1 : 0,
      origLen: i,
      bytes: bytes.toString('hex'),
    });
  }
  return { file: w.toBuffer(), expected };
}

/** Offset just after each EPB of a little-endian pcapng. */
function epbEnds(file: Buffer): number[] {
  const ends: number[] = [];
  for (let pos = 0; pos < file.length; pos += file.readUInt32LE(pos + 4)) {
    if (file.readUInt32LE(pos) === 6) ends.push(pos + file.readUInt32LE(pos + 4));
  }
  return ends;
}

const { file: SAMPLE, expected: EXPECTED } = sample();
const plainPath = join(dir, 'sample.pcapng');
const gzPath = join(dir, 'sample.pcapng.gz');
writeFileSync(plainPath, SAMPLE);
const GZ = gzipSync(SAMPLE);
writeFileSync(gzPath, GZ);

describe('openCapture / readCapture', () => {
  it('reads a file with a callback, reporting byte counts and file size', async () => {
    const frames: PlainFrame[] = [];
    const summary = await readCapture(plainPath, (f) => frames.push(plain(f)), { chunkSize: 997 });
    expect(frames).toEqual(EXPECTED);
    expect(summary).toEqual({
      bytesRead: SAMPLE.length,
      fileSize: SAMPLE.length,
      decompressedBytes: SAMPLE.length,
      frames: 300,
      gzip: false,
      format: 'pcapng',
      error: undefined,
    });
  });

  it('for-await over frames and over batches give the same frames', async () => {
    const a: PlainFrame[] = [];
    for await (const f of openCapture(plainPath, { chunkSize: 4096 })) a.push(plain(f));
    const b: PlainFrame[] = [];
    const reader = openCapture(plainPath, { chunkSize: 4096 });
    let batches = 0;
    for await (const batch of reader.batches()) {
      batches++;
      for (const f of batch) b.push(plain(f));
    }
    expect(a).toEqual(EXPECTED);
    expect(b).toEqual(EXPECTED);
    expect(batches).toBeGreaterThan(5);
    expect(reader.error).toBeUndefined();
  });

  it('forEach with afterChunk: awaited after each chunk, before the next one is read, frames as with batches()', async () => {
    const batchSizes: number[] = [];
    for await (const batch of openCapture(plainPath, { chunkSize: 4096 }).batches()) batchSizes.push(batch.length);
    const frames: PlainFrame[] = [];
    const seenAtPause: number[] = [];
    let pending = false;
    const reader = openCapture(plainPath, { chunkSize: 4096 });
    const summary = await reader.forEach(
      (f) => {
        // No frame arrives while an afterChunk is still pending: the next chunk waits for it.
        expect(pending).toBe(false);
        frames.push(plain(f));
      },
      async () => {
        pending = true;
        seenAtPause.push(frames.length);
        await new Promise((r) => setTimeout(r, 1));
        pending = false;
      },
    );
    expect(frames).toEqual(EXPECTED);
    expect(summary.frames).toBe(300);
    // A pause after every chunk, at the same frame boundaries batches() yields (chunks that complete no frame included).
    const boundaries = batchSizes.map((_, i) => batchSizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
    expect([...new Set(seenAtPause)]).toEqual(boundaries);
    expect(seenAtPause.length).toBeGreaterThanOrEqual(batchSizes.length);
  });

  it('gunzips transparently; bytesRead counts compressed bytes', async () => {
    const frames: PlainFrame[] = [];
    const summary = await readCapture(gzPath, (f) => frames.push(plain(f)));
    expect(frames).toEqual(EXPECTED);
    expect(summary).toMatchObject({
      gzip: true,
      bytesRead: GZ.length,
      fileSize: GZ.length,
      decompressedBytes: SAMPLE.length,
      error: undefined,
    });
  });

  it('a truncated gzip is CAPTURE_TRUNCATED at a decompressed offset, frames before it delivered', async () => {
    const cutPath = join(dir, 'cut.pcapng.gz');
    const cut = GZ.subarray(0, Math.floor(GZ.length * 0.6));
    writeFileSync(cutPath, cut);
    const frames: Frame[] = [];
    const summary = await readCapture(cutPath, (f) => frames.push(f));
    const err = summary.error;
    expect(err?.code).toBe('CAPTURE_TRUNCATED');
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThan(300);
    expect(frames.map(plain)).toEqual(EXPECTED.slice(0, frames.length));
    // The offset is where the first undelivered block starts in the decompressed capture.
    const endOfLast = epbEnds(SAMPLE)[frames.length - 1];
    expect(err?.offset).toBe(endOfLast);
    expect(err?.message).toBe(`${cutPath}: truncated gzip stream at byte ${endOfLast}`);
    expect(summary.bytesRead).toBe(cut.length);
  });

  it('corrupt gzip data is CAPTURE_CORRUPT', async () => {
    const badPath = join(dir, 'bad.gz');
    writeFileSync(badPath, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(40, 0xff)]));
    const summary = await readCapture(badPath, () => {});
    expect(summary.error?.code).toBe('CAPTURE_CORRUPT');
    expect(summary.error?.offset).toBe(0);
  });

  it('stops at the first format error and reports it as a value', async () => {
    const p = join(dir, 'corrupt.pcap');
    const w = new PcapWriter({ linkType: 1 });
    w.add({ ts: { sec: 5, nsec: 0 }, bytes: Buffer.from('ok') });
    const good = w.toBuffer(); // 24 + 18 = 42
    const badRecord = Buffer.alloc(16);
    badRecord.writeUInt32LE(0x7fffffff, 8);
    writeFileSync(p, Buffer.concat([good, badRecord, good.subarray(24)]));
    const frames: Frame[] = [];
    const summary = await readCapture(p, (f) => frames.push(f));
    expect(frames.map((f) => f.bytes.toString())).toEqual(['ok']);
    expect(summary.error).toMatchObject({ code: 'CAPTURE_CORRUPT', offset: 42 });
  });

  it('empty file and missing file', async () => {
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, Buffer.alloc(0));
    expect((await readCapture(empty, () => {})).error).toMatchObject({
      code: 'CAPTURE_EMPTY',
      offset: 0,
      message: `${empty}: empty file (0 bytes) at byte 0`,
    });
    const missing = join(dir, 'nope.pcap');
    expect((await readCapture(missing, () => {})).error).toMatchObject({
      code: 'CAPTURE_IO',
      message: `${missing}: cannot read (ENOENT) at byte 0`,
    });
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    expect((await readCapture(sub, () => {})).error?.code).toBe('CAPTURE_IO');
  });

  it("'-' reads an injected stdin stream fed one byte at a time", async () => {
    const stdin = new PassThrough();
    const reader = openCapture('-', { stdin });
    const got: PlainFrame[] = [];
    const done = reader.forEach((f) => got.push(plain(f)));
    const small = SAMPLE.subarray(0, 2000);
    for (let i = 0; i < small.length; i++) stdin.write(small.subarray(i, i + 1));
    stdin.end();
    const summary = await done;
    const complete = EXPECTED.filter((_, i) => i < got.length);
    expect(got).toEqual(complete);
    expect(got.length).toBeGreaterThan(10);
    expect(summary.error?.code).toBe('CAPTURE_TRUNCATED');
    expect(summary.fileSize).toBeUndefined();
    expect(summary.bytesRead).toBe(2000);
  });

  it("'-' reads a gzip capture piped from a child process", async () => {
    const child = spawn('cat', [gzPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    const frames: PlainFrame[] = [];
    const summary = await readCapture('-', (f) => frames.push(plain(f)), { stdin: child.stdout });
    expect(frames).toEqual(EXPECTED);
    expect(summary).toMatchObject({ gzip: true, bytesRead: GZ.length, error: undefined });
  });

  it('breaking out of for-await closes the reader', async () => {
    const reader = openCapture(plainPath, { chunkSize: 512 });
    let n = 0;
    for await (const f of reader) {
      n = f.number;
      if (n === 3) break;
    }
    expect(n).toBe(3);
    expect(reader.bytesRead).toBeLessThan(SAMPLE.length);
    expect(reader.error).toBeUndefined();
  });
});
