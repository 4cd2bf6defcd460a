import { shakenFailureRule } from './shaken-failure.js';

export const rule = shakenFailureRule(
  'SHAKEN-STALE',
  'PASSporT iat outside the freshness window',
  'medium',
  "iat (or the Date header) is further than the freshness window from the capture time (403 Stale Date). Caveat: clock skew. Source: RFC 8224 §6.2.1.",
);
