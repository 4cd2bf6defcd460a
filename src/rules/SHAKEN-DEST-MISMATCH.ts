import { shakenFailureRule } from './shaken-failure.js';

export const rule = shakenFailureRule(
  'SHAKEN-DEST-MISMATCH',
  'Called number not in the PASSporT dest.tn',
  'medium',
  "The called number (To/Request-URI) is not in dest.tn and no valid div PASSporT explains it. Caveat: forwarding without div. Source: RFC 8946.",
);
