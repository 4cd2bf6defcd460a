/**
 * lists.doNotOriginateFiles in the live daemon (issue #21 point 4): read at start with bad lines logged by file
 * and line, re-read when the file changes (debounced watch of its folder, also across a rename over it), and a
 * call from a listed number raises CLI-DNO naming the owner column and the line. Loopback, ephemeral ports.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon/daemon.js';
import { invite, labConfig, sendUdp, tempDir, waitFor, WsClient } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function memoryLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }), lines };
}

describe('daemon: do-not-originate files', () => {
  it('loads at start, logs bad lines with file:line, raises CLI-DNO with the owner, and re-reads the file when it changes', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.dir, 'banks.csv');
    writeFileSync(file, 'number,owner\n+31205551111,Example Bank fraud desk\n0205551112,Bad national\n');
    const base = labConfig({ store: join(tmp.dir, 'store.db') });
    const config = { ...base, lists: { ...base.lists, doNotOriginateFiles: [file] } };
    const { logger, lines } = memoryLogger();
    const d = await startDaemon({ config, logger, closeGraceMs: 500, dnoDebounceMs: 50 });
    cleanups.push(() => d.stop());
    expect(lines.filter((l) => String(l['message']).startsWith('do-not-originate'))).toEqual([
      { level: 'info', message: 'do-not-originate file loaded (start)', file, entries: 1, badLines: 1 },
      {
        level: 'warn',
        message: 'do-not-originate file: bad line skipped',
        line: `${file}:3: not an E.164 number or range ("0205551112"; write +CC… with 1–15 digits, or +lo-+hi)`,
      },
    ]);

    const ws = new WsClient(d.urls.ws);
    cleanups.push(async () => void (await ws.close()));
    await ws.hello();
    const dno = (callId: string) => ws.alerts.find((a) => a.call.callId === callId && a.rule === 'CLI-DNO');
    await sendUdp(d.ports.sipUdp!, [invite('dno-1@test', { from: '+31205551111' })], '127.0.0.99');
    await waitFor(() => dno('dno-1@test') !== undefined, 5000, 'CLI-DNO from the file');
    const a = dno('dno-1@test')!;
    expect([a.severity, a.summary, a.reasons]).toEqual([
      'critical',
      'Do-not-originate number +31205551111 (Example Bank fraud desk) presented as caller',
      [
        '+31205551111 in From is on the do-not-originate list (Example Bank fraud desk): it only receives calls, so a call from it is spoofed.',
        `Listed in ${file} line 2.`,
      ],
    ]);

    // An editor writes a new version beside it and renames it over the file: the watch still sees it.
    writeFileSync(`${file}.tmp`, '+31205552222,Tax office\n');
    renameSync(`${file}.tmp`, file);
    await waitFor(() => lines.some((l) => l['message'] === 'do-not-originate file loaded (file changed)'), 5000, 'reload after change');
    await sendUdp(d.ports.sipUdp!, [invite('dno-2@test', { from: '+31205552222' }), invite('dno-3@test', { from: '+31205551111' })], '127.0.0.99');
    await waitFor(() => dno('dno-2@test') !== undefined, 5000, 'CLI-DNO from the new version');
    expect(dno('dno-2@test')!.reasons[1]).toBe(`Listed in ${file} line 1.`);
    // The old number is no longer listed.
    await waitFor(() => ws.alerts.some((a) => a.call.callId === 'dno-3@test'), 5000, 'other alerts of dno-3');
    expect(dno('dno-3@test')).toBeUndefined();

    // A reload (SIGHUP) with the same list re-reads the file too, off the event loop.
    writeFileSync(`${file}.tmp`, '+31205554444,Fraud helpdesk\n');
    const n = lines.length;
    expect(d.reload(config)).toEqual({ ok: true });
    await waitFor(() => lines.slice(n).some((l) => l['message'] === 'do-not-originate file loaded (reload)'), 5000, 'reload log');
    expect(d.analyzer.dnoFiles.lookup('+31205552222')).toEqual({ owner: 'Tax office', file, line: 1 });
    renameSync(`${file}.tmp`, file);
    await waitFor(() => d.analyzer.dnoFiles.lookup('+31205554444') !== undefined, 5000, 'the renamed version');
  }, 30_000);
});
