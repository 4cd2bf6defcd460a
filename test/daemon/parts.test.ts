/**
 * Issue #18.5: the daemon is a composition of parts with one start order; stop runs its reverse (and so does a start
 * that fails half-way).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/daemon/logger.js';
import { DaemonParts } from '../../src/daemon/parts.js';
import { labConfig, quietDaemon, tempDir } from './helpers.js';

describe('DaemonParts', () => {
  it('stops the parts last-started first, each once, and goes on past a part that fails to stop', async () => {
    const parts = new DaemonParts();
    const stopped: string[] = [];
    parts.started('a', () => void stopped.push('a'));
    parts.started('b', async () => {
      await new Promise((r) => setTimeout(r, 5));
      stopped.push('b');
    });
    parts.started('c', () => {
      throw new Error('c broke');
    });
    parts.started('d', () => void stopped.push('d'));
    const errors: string[] = [];
    await parts.stopAll((name, err) => errors.push(`${name}: ${(err as Error).message}`));
    expect(stopped).toEqual(['d', 'b', 'a']);
    expect(errors).toEqual(['c: c broke']);
    expect(parts.startOrder).toEqual(['a', 'b', 'c', 'd']);
    expect(parts.stopOrder).toEqual(['d', 'c', 'b', 'a']);
    await parts.stopAll(() => undefined);
    expect(stopped).toEqual(['d', 'b', 'a']);
  });
});

describe('the daemon stops in the reverse of its start order', () => {
  it('a daemon with SIP, HEP and a watched folder', async () => {
    const tmp = tempDir();
    try {
      const d = await quietDaemon(labConfig({ store: join(tmp.dir, 'store.db'), watch: tmp.dir }));
      const started = [...d.parts.startOrder];
      expect(started).toEqual([
        'alert store',
        'evidence',
        'do-not-originate watch',
        'websocket hub',
        'incidents',
        'http server',
        'websocket clients',
        'alert delivery',
        'sip udp',
        'sip tcp',
        'hep udp',
        'hep tcp',
        'folder watch',
        'idle clock',
        ...(typeof (globalThis as { gc?: unknown }).gc === 'function' ? ['gc signal (test hook)'] : []),
        'retention',
      ]);
      expect(d.parts.stopOrder).toEqual([]);
      await d.stop();
      expect(d.parts.stopOrder).toEqual([...started].reverse());
    } finally {
      tmp.cleanup();
    }
  });

  it('a start that fails (HTTP port taken) rejects with the reason, after stopping what had started (the same stopAll)', async () => {
    const tmp = tempDir();
    const first = await quietDaemon(labConfig({ store: join(tmp.dir, 'a.db') }));
    try {
      const cfg = labConfig({ store: join(tmp.dir, 'b.db') });
      const logger = createLogger({ silent: true });
      await expect(startDaemon({ config: { ...cfg, server: { ...cfg.server, port: first.ports.http } }, logger, closeGraceMs: 500 })).rejects.toThrow(
        /cannot listen on 127\.0\.0\.1:\d+ \(HTTP\)/,
      );
      // Its store was closed: a daemon on the same file starts and stops cleanly.
      const again = await quietDaemon(labConfig({ store: join(tmp.dir, 'b.db') }));
      await again.stop();
      expect(again.parts.stopOrder[again.parts.stopOrder.length - 1]).toBe('alert store');
    } finally {
      await first.stop();
      tmp.cleanup();
    }
  });
});
