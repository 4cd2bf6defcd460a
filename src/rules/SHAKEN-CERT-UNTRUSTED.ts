import { shakenFailureRule } from './shaken-failure.js';

export const rule = shakenFailureRule(
  'SHAKEN-CERT-UNTRUSTED',
  'STIR/SHAKEN certificate not trusted',
  'high',
  "The certificate chain does not reach a configured trust anchor, is not valid at the capture time, has no P-256 key or no TNAuthList (437 Unsupported Credential). Caveat: an incomplete anchor bundle. Sources: RFC 8224; RFC 8226.",
);
