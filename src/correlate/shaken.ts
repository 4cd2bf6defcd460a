/** STIR/SHAKEN verification wired to config (RULES.md §2): anchors and certificate cache loaded once. */
import type { StirShakenConfig } from '../config/index.js';
import { replayKeyOf, trustMaterialFor, verifyIdentity, type VerifyContext } from '../identity/shaken/index.js';
import type { ShakenOutcome } from '../rules/types.js';

export class ShakenVerifier {
  private readonly ctx: VerifyContext;

  constructor(config: StirShakenConfig) {
    // Loaded (bounded, regular files only) by loadConfig with this config object, or now; throws
    // SHAKEN_MATERIAL_INVALID naming the config paths, so a reload keeps the running config.
    const { anchors, cache } = trustMaterialFor(config);
    this.ctx = { anchors, cache, freshnessSeconds: config.freshnessSeconds };
  }

  verify(identityHeaders: readonly string[], captureTimeMs: number, cli: string | undefined, called: readonly string[], dateMs?: number): ShakenOutcome {
    if (identityHeaders.length === 0) return { status: 'none' };
    const r = verifyIdentity(
      {
        identityHeaders,
        captureTimeMs,
        ...(cli !== undefined ? { cli } : {}),
        calledNumbers: called,
        ...(dateMs !== undefined ? { dateHeaderMs: dateMs } : {}),
      },
      this.ctx,
    );
    if (r.status === 'none') return r;
    if (r.status === 'passed') {
      return { status: 'passed', attest: r.attest, origTn: r.origTn, destTn: r.destTn, x5u: r.x5u, replayKey: replayKeyOf(r) };
    }
    return {
      status: 'failed',
      code: r.code,
      rule: r.rule,
      reason: r.reason,
      ...(r.attest !== undefined ? { attest: r.attest } : {}),
      ...(r.origTn !== undefined ? { origTn: r.origTn } : {}),
      ...(r.destTn !== undefined ? { destTn: r.destTn } : {}),
      ...(r.x5u !== undefined ? { x5u: r.x5u } : {}),
      // A replay only matters for a token whose signature verified (a failed binding, not a forgery).
      ...((r.step === 'orig' || r.step === 'dest') && r.origid !== undefined && r.iat !== undefined && r.origTn !== undefined && r.destTn !== undefined
        ? { replayKey: replayKeyOf({ origid: r.origid, iat: r.iat, origTn: r.origTn, destTn: r.destTn }) }
        : {}),
    };
  }
}
