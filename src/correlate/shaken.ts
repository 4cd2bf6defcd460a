/** STIR/SHAKEN verification wired to config (RULES.md §2): anchors and certificate cache loaded once. */
import type { StirShakenConfig } from '../config/index.js';
import { replayKeyOf, tnDigits, trustMaterialFor, verifyIdentity, type VerifyContext } from '../identity/shaken/index.js';
import type { Cli, PresentedIdentity, ShakenOutcome } from '../rules/types.js';

/**
 * The caller orig.tn is bound to (RULES.md §2 step 8; RFC 8224 §6.2 step 2): a number, a withheld caller
 * (the only case the binding may stay unchecked), or something that is not a number (a SIP user name, a
 * short code, nothing at all), which can never equal orig.tn.
 */
export type OrigBinding =
  | { readonly kind: 'number'; readonly e164: string }
  | { readonly kind: 'withheld' }
  | { readonly kind: 'not-a-number'; readonly text: string };

/**
 * Which caller a PASSporT's orig.tn must equal: the effective CLI when it is a number; for a withheld
 * effective CLI, the first P-Asserted-Identity number of any peer (a withheld call still carries its real
 * number there, and that is what the originating service signs); withheld only when no number is left.
 */
export function origBindingOf(cli: Cli | undefined, pai: readonly PresentedIdentity[]): OrigBinding {
  const num = cli?.num;
  if (num?.kind === 'e164') return { kind: 'number', e164: num.e164 };
  if (num?.kind === 'withheld') {
    for (const p of pai) if (p.num.kind === 'e164') return { kind: 'number', e164: p.num.e164 };
    return { kind: 'withheld' };
  }
  const id = cli?.identity;
  return { kind: 'not-a-number', text: id ? id.uri || id.raw : '' };
}

export class ShakenVerifier {
  private readonly ctx: VerifyContext;

  constructor(config: StirShakenConfig) {
    // Loaded (bounded, regular files only) by loadConfig with this config object, or now; throws
    // SHAKEN_MATERIAL_INVALID naming the config paths, so a reload keeps the running config.
    const { anchors, cache } = trustMaterialFor(config);
    this.ctx = { anchors, cache, freshnessSeconds: config.freshnessSeconds };
  }

  verify(
    identityHeaders: readonly string[],
    captureTimeMs: number,
    caller: OrigBinding,
    called: readonly string[],
    dateMs?: number,
    diverting: readonly string[] = [],
  ): ShakenOutcome {
    if (identityHeaders.length === 0) return { status: 'none' };
    const r = verifyIdentity(
      {
        identityHeaders,
        captureTimeMs,
        ...(caller.kind === 'number' ? { cli: caller.e164 } : caller.kind === 'withheld' ? { callerWithheld: true } : { callerText: caller.text }),
        calledNumbers: called,
        ...(dateMs !== undefined ? { dateHeaderMs: dateMs } : {}),
        ...(diverting.length > 0 ? { divertingNumbers: diverting } : {}),
      },
      this.ctx,
    );
    if (r.status === 'none') return r;
    const div = {
      ...(r.divProven ? { divProven: r.divProven.map((tn) => `+${tnDigits(tn)}`) } : {}),
      ...(r.divInvalid ? { divInvalid: r.divInvalid } : {}),
      ...(r.rcdName !== undefined ? { rcdName: r.rcdName } : {}),
      ...(r.rcdInvalid ? { rcdInvalid: r.rcdInvalid } : {}),
    };
    if (r.status === 'passed') {
      return {
        status: 'passed',
        attest: r.attest,
        origTn: r.origTn,
        destTn: r.destTn,
        x5u: r.x5u,
        replayKey: replayKeyOf(r),
        ...(r.unbound !== undefined ? { note: r.unbound } : {}),
        ...div,
      };
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
      ...div,
    };
  }
}
