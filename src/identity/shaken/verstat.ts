/**
 * Mapping of a verification result to the `verstat` parameter values (3GPP TS 24.229 §7.2A.20,
 * ATIS-1000074 §5.3.1).
 */
import type { VerifyResult } from './verify.js';

export type Verstat = 'TN-Validation-Passed' | 'TN-Validation-Failed' | 'No-TN-Validation';

/**
 * passed → Passed; failed → Failed, except 436 (certificate not in the local cache): nothing could be
 * verified, which is not the same as a forged identity, so it maps to No-TN-Validation like a call
 * without an Identity header.
 */
export function verstatOf(result: VerifyResult): Verstat {
  if (result.status === 'passed') return 'TN-Validation-Passed';
  if (result.status === 'none' || result.code === 436) return 'No-TN-Validation';
  return 'TN-Validation-Failed';
}
