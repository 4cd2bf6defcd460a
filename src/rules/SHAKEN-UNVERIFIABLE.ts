import { shakenFailureRule } from './shaken-failure.js';

export const rule = shakenFailureRule(
  'SHAKEN-UNVERIFIABLE',
  'STIR/SHAKEN certificate not available offline',
  'low',
  "The certificate named by x5u is not in the local cache (436 Bad Identity Info): an offline limit, not forgery. Source: RFC 8224 §6.2.",
);
