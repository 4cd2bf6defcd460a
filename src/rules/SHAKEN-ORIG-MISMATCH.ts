import { shakenFailureRule } from './shaken-failure.js';

export const rule = shakenFailureRule(
  'SHAKEN-ORIG-MISMATCH',
  'PASSporT orig.tn differs from the caller number',
  'high',
  "The signed orig.tn differs from the normalised CLI (PAI preferred, else From): the core spoofing signal (438). Caveat: normalise both sides first. Sources: RFC 8224 §6.2; ATIS-1000074.",
);
