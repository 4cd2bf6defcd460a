/** Offline STIR/SHAKEN verification (RULES.md §2). See README.md in this folder. */
export { parseIdentityHeader, MAX_IDENTITY_LENGTH, type IdentityHeader, type IdentityHeaderParse } from './header.js';
export {
  decodePassport,
  type Attestation,
  type DecodedPassport,
  type DivClaims,
  type PassportDecode,
  type PassportHeader,
  type PassportType,
  type ShakenClaims,
} from './passport.js';
export { CertCache, cacheKeyOf, parsePemChain, MAX_CACHE_BYTES, MAX_CACHE_FILES, MAX_CHAIN_CERTS, type CacheProblem } from './certcache.js';
export {
  loadTrustMaterial,
  rememberTrustMaterial,
  trustMaterialFor,
  type TrustMaterial,
  type TrustMaterialConfig,
  type TrustMaterialLoad,
} from './material.js';
export { verifyChain, validityProblemAt, validityProblemsAt, type ChainVerdict, type PathCert } from './chain.js';
export {
  certificateExtensions,
  parseTnAuthList,
  tnAuthListOf,
  tnAuthorised,
  TN_AUTH_LIST_OID,
  type CertExtension,
  type TnAuthEntry,
} from './tnauthlist.js';
export {
  verifyIdentity,
  tnDigits,
  type FailureStep,
  type PassportFacts,
  type ShakenCode,
  type ShakenRule,
  type VerifyContext,
  type VerifyFailed,
  type VerifyInput,
  type VerifyPassed,
  type VerifyResult,
} from './verify.js';
export { replayKeyOf } from './replay.js';
export { verstatOf, type Verstat } from './verstat.js';
