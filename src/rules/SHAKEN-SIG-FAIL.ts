import { shakenFailureRule } from './shaken-failure.js';

export const rule = shakenFailureRule(
  'SHAKEN-SIG-FAIL',
  'PASSporT signature does not verify',
  'high',
  "The ES256 signature of the PASSporT does not verify against the certificate's key (438 Invalid Identity Header). Caveat: SBCs that rewrite signed headers. Source: RFC 8224 §6.2.2.",
);
