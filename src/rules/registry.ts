/** Every rule of RULES.md §4, one file each; the id is the file name. */
import type { Rule } from './types.js';
import { rule as r0 } from './CLI-CALLED-AS-CALLER.js';
import { rule as r1 } from './CLI-DNO.js';
import { rule as r2 } from './CLI-INVALID.js';
import { rule as r3 } from './CLI-MULTI-PEER.js';
import { rule as r4 } from './CLI-NEIGHBOUR.js';
import { rule as r5 } from './CLI-NOT-AUTHORIZED.js';
import { rule as r6 } from './CLI-PROTECTED.js';
import { rule as r7 } from './CLI-SPECIAL.js';
import { rule as r8 } from './CLI-VELOCITY.js';
import { rule as r9 } from './DISPLAY-IMPERSONATION.js';
import { rule as r10 } from './DIV-UNTRUSTED.js';
import { rule as r11 } from './HDR-PAI-UNTRUSTED.js';
import { rule as r12 } from './ID-FROM-PAI-MISMATCH.js';
import { rule as r13 } from './MSG-MALFORMED.js';
import { rule as r14 } from './PRIV-ANON-WITH-PAI.js';
import { rule as r15 } from './REG-INTL-NATIONAL-CLI.js';
import { rule as r16 } from './SHAKEN-ATTEST-WEAK.js';
import { rule as r17 } from './SHAKEN-CERT-UNTRUSTED.js';
import { rule as r18 } from './SHAKEN-DEST-MISMATCH.js';
import { rule as r19 } from './SHAKEN-ORIG-MISMATCH.js';
import { rule as r20 } from './SHAKEN-REPLAY.js';
import { rule as r21 } from './SHAKEN-SIG-FAIL.js';
import { rule as r22 } from './SHAKEN-STALE.js';
import { rule as r23 } from './SHAKEN-UNVERIFIABLE.js';
import { rule as r24 } from './SRC-UNKNOWN-PEER.js';
import { rule as r25 } from './UA-ATTACK-TOOL.js';
import { rule as r26 } from './VERSTAT-FORGED.js';
import { rule as r27 } from './SHAKEN-DIV-INVALID.js';
import { rule as r28 } from './SHAKEN-RCD-INVALID.js';
import { rule as r29 } from './DISPLAY-RCD-MISMATCH.js';

export const ALL_RULES: readonly Rule[] = [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15, r16, r17, r18, r19, r20, r21, r22, r23, r24, r25, r26, r27, r28, r29];

export function ruleById(id: string): Rule | undefined {
  return ALL_RULES.find((r) => r.id === id);
}
