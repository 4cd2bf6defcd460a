import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DnoFiles, parseDnoFile, DNO_MAX_REPORTED_ERRORS } from '../../src/identity/dno-file.js';
import { readBoundedFile } from '../../src/util/bounded-read.js';

const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-dno-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parse = (text: string) => parseDnoFile('list.txt', Buffer.from(text, 'utf8'));

describe('parseDnoFile: plain lists', () => {
  it('reads numbers and ranges with comments, blanks, CRLF and spaces; a number matches exactly', () => {
    const r = parse('# bank hotlines\r\n+31201234567\r\n\r\n  +31800-+31899  # short block\n+31205550000-+31205559999 # block\n\t+442079460000\t\n');
    expect(r.errors).toEqual([]);
    expect(r.list.size).toBe(4);
    expect([r.list.lookup('+31850'), r.list.lookup('+318500')]).toEqual([{ file: 'list.txt', line: 4 }, undefined]);
    expect(r.list.lookup('+31201234567')).toEqual({ file: 'list.txt', line: 2 });
    expect(r.list.lookup('+312012345678')).toBeUndefined();
    expect(r.list.lookup('+3120123456')).toBeUndefined();
    expect(r.list.lookup('+31205550000')).toEqual({ file: 'list.txt', line: 5 });
    expect(r.list.lookup('+31205559999')).toEqual({ file: 'list.txt', line: 5 });
    expect(r.list.lookup('+31205560000')).toBeUndefined();
    expect(r.list.lookup('+442079460000')).toEqual({ file: 'list.txt', line: 6 });
  });

  it('names every bad line with its number and reason, and keeps the good ones', () => {
    const r = parse(['+31201234567', '0201234567', '+0201234567', '+1234567890123456', '+3120-+312', '+31209-+31200', '+31 20 123', 'abc', '+31201234568'].join('\n'));
    expect(r.list.size).toBe(2);
    expect(r.badLines).toBe(7);
    expect(r.errors).toEqual([
      { line: 2, reason: 'not an E.164 number or range ("0201234567"; write +CC… with 1–15 digits, or +lo-+hi)' },
      { line: 3, reason: 'not an E.164 number or range ("+0201234567"; write +CC… with 1–15 digits, or +lo-+hi)' },
      { line: 4, reason: 'not an E.164 number or range ("+1234567890123456"; write +CC… with 1–15 digits, or +lo-+hi)' },
      { line: 5, reason: 'range ends differ in length ("+3120-+312")' },
      { line: 6, reason: 'range start is after its end ("+31209-+31200")' },
      { line: 7, reason: 'not an E.164 number or range ("+31 20 123"; write +CC… with 1–15 digits, or +lo-+hi)' },
      { line: 8, reason: 'not an E.164 number or range ("abc"; write +CC… with 1–15 digits, or +lo-+hi)' },
    ]);
    expect(r.list.lookup('+31201234568')).toEqual({ file: 'list.txt', line: 9 });
  });

  it('reports at most the first 100 bad lines but counts them all', () => {
    const r = parse(Array.from({ length: 250 }, () => 'x').join('\n'));
    expect([r.errors.length, r.badLines, r.errors.at(-1)?.line]).toEqual([DNO_MAX_REPORTED_ERRORS, 250, 100]);
  });

  it('never throws on hostile bytes', () => {
    const junk = Buffer.from([0, 0xff, 0x0a, 0x2b, 0x0d, 0x0a, 0x22, 0x2c, 0x23, 0x0a, 0x2b, 0x31, 0x2d, 0x0a]);
    const r = parseDnoFile('junk', junk);
    expect([r.list.size, r.badLines]).toEqual([0, 4]);
    expect(parseDnoFile('empty', Buffer.alloc(0)).list.size).toBe(0);
  });
});

describe('parseDnoFile: CSV number,owner', () => {
  it('reads owners, a header in any column order, quotes and comments', () => {
    const r = parse(
      [
        '# sector list 2026-11',
        'owner,number,comment',
        'ING Bank,+31205551111,fraud desk',
        '"Belastingdienst, BelastingTelefoon",+31800-+31809,',
        '"He said ""hi""",+31205552222',
        ',+31205553333',
        'Bank,not-a-number',
        'Bank',
        '"unterminated,+31205554444',
      ].join('\n'),
    );
    expect(r.list.lookup('+31205551111')).toEqual({ owner: 'ING Bank', file: 'list.txt', line: 3 });
    expect(r.list.lookup('+31805')).toEqual({ owner: 'Belastingdienst, BelastingTelefoon', file: 'list.txt', line: 4 });
    expect(r.list.lookup('+31205552222')).toEqual({ owner: 'He said "hi"', file: 'list.txt', line: 5 });
    expect(r.list.lookup('+31205553333')).toEqual({ file: 'list.txt', line: 6 });
    expect(r.errors).toEqual([
      { line: 7, reason: 'not an E.164 number or range ("not-a-number"; write +CC… with 1–15 digits, or +lo-+hi)' },
      { line: 8, reason: 'no number in column 2' },
      { line: 9, reason: 'unterminated quoted field' },
    ]);
  });

  it('without a header, the first column is the number and the second the owner', () => {
    const r = parse('+31205551111,ING Bank\n+31205551112, Rabobank , extra # note\n+31205551113,"Bad\u0007Owner"\n');
    expect(r.list.lookup('+31205551111')).toEqual({ owner: 'ING Bank', file: 'list.txt', line: 1 });
    expect(r.list.lookup('+31205551112')).toEqual({ owner: 'Rabobank', file: 'list.txt', line: 2 });
    expect(r.errors).toEqual([{ line: 3, reason: 'control character in the owner' }]);
  });

  it('picks the narrowest entry, then the first of equal ones, whatever the file order', () => {
    const r = parse(['+31205550000-+31205559999,Block', '+31205551234,Second', '+31205551234,First?', '+31205551000-+31205551999,Inner'].join('\n'));
    expect(r.list.lookup('+31205551234')?.owner).toBe('Second');
    expect(r.list.lookup('+31205551500')?.owner).toBe('Inner');
    expect(r.list.lookup('+31205559000')?.owner).toBe('Block');
  });

  it('finds every one of 20,000 shuffled numbers and none of their neighbours', () => {
    const nums = Array.from({ length: 20_000 }, (_, i) => 31_200_000_000 + i * 7);
    const shuffled = [...nums].sort((a, b) => ((a * 7919) % 10007) - ((b * 7919) % 10007));
    const r = parse(shuffled.map((n) => `+${n},O${n % 13}`).join('\n'));
    expect(r.list.size).toBe(20_000);
    expect(nums.every((n) => r.list.lookup(`+${n}`)?.owner === `O${n % 13}`)).toBe(true);
    expect(nums.some((n) => r.list.lookup(`+${n + 1}`) !== undefined)).toBe(false);
  });
});

describe('readBoundedFile (the bounded reader DNO files share with the config, src/util/bounded-read.ts)', () => {
  it('reads a regular file, refuses a directory, a FIFO, a missing file, a device and one over the limit', () => {
    const f = join(dir, 'a.txt');
    writeFileSync(f, '+31201234567\n');
    const ok = readBoundedFile(f, 1000);
    expect(ok.kind === 'ok' && ok.bytes.toString()).toBe('+31201234567\n');
    expect(readBoundedFile(f, 5)).toEqual({ kind: 'invalid', reason: 'is 13 bytes, over the limit of 5 bytes' });
    expect(readBoundedFile(dir, 1000)).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/directory, not a regular file/) });
    expect(readBoundedFile(join(dir, 'missing'), 1000)).toEqual({ kind: 'invalid', reason: 'does not exist (ENOENT)' });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Without O_NONBLOCK this open would hang the test (no writer).
    expect(readBoundedFile(fifo, 1000)).toEqual({ kind: 'invalid', reason: 'is a FIFO, not a regular file' });
    const link = join(dir, 'link');
    symlinkSync('/dev/zero', link);
    expect(readBoundedFile(link, 1000)).toEqual({ kind: 'invalid', reason: 'is a character device, not a regular file' });
  });
});

describe('DnoFiles', () => {
  it('loads files in order, reports bad lines as FILE:LINE, and keeps the old entries when a file cannot be read', () => {
    const a = join(dir, 'banks.csv');
    const b = join(dir, 'plain.txt');
    writeFileSync(a, 'number,owner\n+31205551111,ING Bank\n+3120555x,Bad\n');
    writeFileSync(b, '+31205551111\n+31205552222\n');
    const files = new DnoFiles([a, b]);
    expect(files.load()).toEqual([
      { file: a, entries: 1, badLines: 1, errors: [`${a}:3: not an E.164 number or range ("+3120555x"; write +CC… with 1–15 digits, or +lo-+hi)`] },
      { file: b, entries: 2, badLines: 0, errors: [] },
    ]);
    expect(files.lookup('+31205551111')).toEqual({ owner: 'ING Bank', file: a, line: 2 });
    expect(files.lookup('+31205552222')).toEqual({ file: b, line: 2 });
    // The file changes: the new content replaces the old at once.
    writeFileSync(b, '+31205553333\n');
    files.load();
    expect([files.lookup('+31205552222'), files.lookup('+31205553333')]).toEqual([undefined, { file: b, line: 1 }]);
    // The file disappears (an editor's rename): the last good entries stay, and the report says why.
    rmSync(b);
    const rep = files.load();
    expect(rep[1]).toEqual({ file: b, entries: 1, badLines: 0, errors: [], readError: `${b}: does not exist (ENOENT)` });
    expect(files.lookup('+31205553333')).toEqual({ file: b, line: 1 });
    expect(files.size).toBe(2);
  });
});
