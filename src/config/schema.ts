/**
 * zod schema of the config file and the formatting of its errors as one line per problem:
 * `peers[2].allowedNumbers[0]: not an E.164 prefix or range ("031205550000")`.
 * Field-level checks (number syntax, CIDRs, countries) live here; checks across fields live in
 * `checks.ts`.
 */
import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import { SEVERITIES } from '../alerts/alert.js';
import { parseCidr } from '../identity/ip.js';
import { parseNumberPattern } from '../identity/number-set.js';
import { PACK_COUNTRIES } from '../identity/packs/index.js';
import { ALL_RULES } from '../rules/registry.js';
import { PEER_CLASSES, PEER_TRUST, THRESHOLD_TRACKS, TRANSPORTS } from './types.js';

/** Country: ISO 3166 alpha-2 (case-insensitive in the file, upper case in the config). */
const countrySchema = z.string().transform((s, ctx) => {
  const upper = s.toUpperCase();
  if (!/^[A-Z]{2}$/.test(upper) || !isSupportedCountry(upper)) {
    ctx.addIssue({ code: 'custom', message: `not an ISO 3166 alpha-2 country code ("${s}")`, input: s });
    return z.NEVER;
  }
  return upper;
});

/** A country rule pack: its ISO code (case-insensitive; `UK` is read as `GB`). */
const rulePackSchema = z.string().transform((s, ctx) => {
  const upper = s.toUpperCase() === 'UK' ? 'GB' : s.toUpperCase();
  if (!PACK_COUNTRIES.includes(upper)) {
    ctx.addIssue({ code: 'custom', message: `no rule pack for "${s}" (packs: ${PACK_COUNTRIES.join(', ')})`, input: s });
    return z.NEVER;
  }
  return upper;
});

/**
 * An E.164 prefix or range, as text. YAML reads an unquoted `31201234567` as a number (and a long one loses
 * digits), so a number here is an error telling to quote it ({@link formatIssues}), never silently converted
 * (issue #20). `+3120555` and `031…` stay strings when read by `loadConfig`.
 */
export const numberPatternSchema = z.string().superRefine((s, ctx) => {
  const parsed = parseNumberPattern(s);
  if (parsed.kind === 'invalid') ctx.addIssue({ code: 'custom', message: parsed.reason, input: s });
});

const cidrSchema = z.string().transform((s, ctx) => {
  const parsed = parseCidr(s.trim());
  if (parsed.kind === 'invalid') {
    ctx.addIssue({ code: 'custom', message: parsed.reason, input: s });
    return z.NEVER;
  }
  return parsed.cidr.text;
});

const nonEmptyString = z.string().trim().min(1);
const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);
const positiveNumber = z.number().positive();

const transportSchema = z.enum(TRANSPORTS);

const peerSchema = z.strictObject({
  name: nonEmptyString,
  description: z.string().optional(),
  match: z.strictObject({
    cidrs: z.array(cidrSchema).min(1),
    port: z.number().int().min(1).max(65535).optional(),
    transport: z
      .union([transportSchema, z.array(transportSchema).min(1)])
      .transform((t) => (typeof t === 'string' ? [t] : t))
      .optional(),
    hepCaptureId: z.number().int().min(0).max(0xffffffff).optional(),
    /** Cluster mode (issue #22): only traffic this sensor (`cluster.sensorId`) captured. */
    sensorId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only (1-64)').optional(),
  }),
  trust: z.enum(PEER_TRUST),
  class: z.enum(PEER_CLASSES),
  country: countrySchema.optional(),
  allowedNumbers: z.array(numberPatternSchema).default([]),
  presentationNumbers: z.array(numberPatternSchema).default([]),
  any: z.boolean().default(false),
});

const listsSchema = z.strictObject({
  protected: z
    .array(
      z.strictObject({
        number: numberPatternSchema,
        owner: nonEmptyString,
        ownerPeers: z.array(nonEmptyString).default([]),
      }),
    )
    .default([]),
  doNotOriginate: z
    .array(z.strictObject({ number: numberPatternSchema, owner: nonEmptyString.optional() }))
    .default([]),
  /** Do-not-originate list files (src/identity/dno-file.ts): numbers/ranges per line, or CSV number,owner. */
  doNotOriginateFiles: z.array(nonEmptyString).default([]),
  brands: z
    .array(
      z.strictObject({
        name: nonEmptyString,
        displayNames: z.array(nonEmptyString).min(1),
        numbers: z.array(numberPatternSchema).default([]),
      }),
    )
    .default([]),
});

const stirShakenSchema = z.strictObject({
  trustAnchors: z.array(nonEmptyString).default([]),
  certCacheDir: nonEmptyString.optional(),
  freshnessSeconds: positiveInt.default(60),
});

const ruleParamSchema = z.union([z.number(), z.boolean(), z.string(), z.array(z.string())]);

const ruleEntrySchema = z.union([
  z.boolean().transform((enabled) => ({ enabled, params: {} })),
  z
    .strictObject({ enabled: z.boolean().default(true), severity: z.enum(SEVERITIES).optional() })
    .catchall(ruleParamSchema)
    .transform(({ enabled, severity, ...params }) => ({
      enabled,
      ...(severity !== undefined ? { severity } : {}),
      params: params as Record<string, z.output<typeof ruleParamSchema>>,
    })),
]);

export const RULE_ID = /^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$/;

/** Ids of every rule (RULES.md §4), for the strict check of `rules:` keys. */
export const KNOWN_RULE_IDS: readonly string[] = ALL_RULES.map((r) => r.id);

/** Levenshtein distance of two short strings (rule ids), for did-you-mean. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The known rule id closest to `id` (case-insensitive, at most a quarter of its letters off), if any. */
export function closestRuleId(id: string): string | undefined {
  const upper = id.toUpperCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(upper.length / 4)) + 1;
  for (const known of KNOWN_RULE_IDS) {
    const d = editDistance(upper, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

/** Why `id` names no rule, with the closest id as a suggestion; undefined for a known rule. */
function unknownRuleMessage(id: string): string | undefined {
  if (KNOWN_RULE_IDS.includes(id)) return undefined;
  const near = closestRuleId(id);
  const what = RULE_ID.test(id) ? 'unknown rule' : 'not a rule id (upper-case words joined by "-", e.g. "CLI-DNO")';
  const hint = near !== undefined ? `; did you mean ${near}?` : `; known rules: ${[...KNOWN_RULE_IDS].sort().join(', ')}`;
  return `${what}${hint}`;
}

/**
 * `rules:` keys must name a rule: a typo (`UA-ATACK-TOOL: false`) would otherwise be accepted and the rule the
 * user meant to turn off would stay on (issue #20). The message suggests the closest id.
 */
const rulesSchema = z.record(z.string(), ruleEntrySchema).superRefine((rules, ctx) => {
  for (const id of Object.keys(rules)) {
    const message = unknownRuleMessage(id);
    if (message !== undefined) ctx.addIssue({ code: 'custom', path: [id], message, input: id });
  }
});

/** A rule id in `suppress`/`threshold` entries: a typo would silently suppress nothing (same message as `rules:`). */
const ruleIdSchema = z.string().superRefine((id, ctx) => {
  const message = unknownRuleMessage(id);
  if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: id });
});

/**
 * A presented-number pattern of a suppression: an E.164 prefix or range (as everywhere), or a glob over the number
 * as presented, `*` any digits and `?` one (`+31*0000`, `+3120555????`).
 */
const numberMatchSchema = z.string().superRefine((s, ctx) => {
  if (/[*?]/.test(s)) {
    if (!/^\+?[\d*?]+$/.test(s)) ctx.addIssue({ code: 'custom', message: `not a number glob: "+", digits, "*" and "?" only ("${s}")`, input: s });
    return;
  }
  const parsed = parseNumberPattern(s);
  if (parsed.kind === 'invalid') ctx.addIssue({ code: 'custom', message: `${parsed.reason}; or a glob with * and ?`, input: s });
});

/**
 * An ISO 8601 date (UTC midnight) or date-time with its zone (`2026-12-31`, `2026-12-31T18:00:00Z`,
 * `2026-12-31T19:00+01:00`), kept as the canonical UTC text. A time without a zone is refused: `Date` would read it
 * in the machine's local zone. A day the month does not have (`2026-02-30`) is refused, not rolled over.
 */
const isoDateSchema = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const dateOnly = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);
  const withZone = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(v);
  let ms = v instanceof Date ? v.getTime() : dateOnly || withZone ? Date.parse(v) : NaN;
  if (dateOnly && Number.isFinite(ms) && !new Date(ms).toISOString().startsWith(v)) ms = NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `not an ISO 8601 date like 2026-12-31 or 2026-12-31T18:00:00Z ("${String(v)}")`, input: v });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

/** `suppress:` (issue #19, Suricata's suppress): see SuppressConfig. */
const suppressSchema = z.strictObject({
  rule: ruleIdSchema,
  peer: nonEmptyString.optional(),
  src: cidrSchema.optional(),
  number: numberMatchSchema.optional(),
  expires: isoDateSchema.optional(),
});

/** `threshold:` (issue #19, Suricata's threshold): see ThresholdConfig. */
const thresholdSchema = z.strictObject({
  rule: ruleIdSchema,
  track: z.enum(THRESHOLD_TRACKS),
  count: positiveInt.max(1_000_000),
  seconds: positiveNumber.max(86_400 * 30),
});

/**
 * A SIP or HEP listener. `allowFrom` (CIDRs) lists who may send: every datagram and connection from elsewhere is
 * dropped and counted (`listener.refused-source`); it is required when `host` is not a loopback address.
 */
const listenerFields = (defaultPort: number) => ({
  host: nonEmptyString.default('127.0.0.1'),
  port: port.default(defaultPort),
  udp: z.boolean().default(true),
  tcp: z.boolean().default(true),
  allowFrom: z.array(cidrSchema).min(1).optional(),
});

const sipListenerSchema = z.strictObject(listenerFields(5060));

/**
 * HEP v3 listener: besides `allowFrom`, `authKey` (HEP chunk 14, as the agents' `capture_password`/`hep_password`
 * sends it) and `captureIds` (chunk 12, capture agent ids) restrict which agents are heard; packets that fail
 * are dropped and counted (`hep.refused-auth-key`, `hep.refused-capture-id`).
 */
const hepListenerSchema = z.strictObject({
  ...listenerFields(9060),
  authKey: z.string().min(1).optional(),
  captureIds: z.array(z.number().int().min(0).max(0xffffffff)).min(1).optional(),
});

/** Defaults of the SIP-over-WebSocket listener (RFC 7118), also used when `--sip-ws-port` turns it on. */
export const SIP_WS_DEFAULTS = Object.freeze({ host: '127.0.0.1', port: 5066, maxConnections: 1000, maxMessageBytes: 64 * 1024 });

/**
 * `sources.sipWs`: off unless configured (`true` = defaults). `path` restricts the upgrade to one request path
 * (any path when absent); connections and message sizes are bounded.
 */
const sipWsSchema = z.preprocess(
  (v) => (v === true ? {} : v),
  z.union([
    z.literal(false),
    z.strictObject({
      host: nonEmptyString.default(SIP_WS_DEFAULTS.host),
      port: port.default(SIP_WS_DEFAULTS.port),
      path: z.string().regex(/^\/[^\s?#]*$/, 'expected a path starting with "/"').optional(),
      maxConnections: positiveInt.default(SIP_WS_DEFAULTS.maxConnections),
      maxMessageBytes: positiveInt.default(SIP_WS_DEFAULTS.maxMessageBytes),
    }),
  ]),
);

/** `false` disables a source, `true` or absent means its defaults (DESIGN.md §5 "Defaults"). */
const orDefaults = (v: unknown): unknown => (v === true || v === undefined ? {} : v);

const sourcesSchema = z.strictObject({
  sip: z.preprocess(orDefaults, z.union([z.literal(false), sipListenerSchema])),
  hep: z.preprocess(orDefaults, z.union([z.literal(false), hepListenerSchema])),
  watch: z.preprocess(
    orDefaults,
    z.union([
      z.literal(false),
      z.strictObject({ dir: nonEmptyString.default('captures/'), pollSeconds: positiveNumber.default(2) }),
    ]),
  ),
  interface: z
    .union([z.literal(false), z.strictObject({ name: nonEmptyString, filter: nonEmptyString.optional() })])
    .default(false),
  sipWs: sipWsSchema.default(false),
});

/** A DNS name as a `Host` header carries it, without port (RFC 1123 §2.1 labels); stored in lower case. */
const hostnameSchema = z.string().transform((s, ctx) => {
  const name = s.trim().toLowerCase().replace(/\.$/, '');
  if (name.length > 253 || !/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    ctx.addIssue({ code: 'custom', message: `not a host name without port or scheme ("${s}")`, input: s });
    return z.NEVER;
  }
  return name;
});

/** A web origin `scheme://host[:port]` (RFC 6454 §6.1), stored serialised as browsers send it in `Origin`. */
const originSchema = z.string().transform((s, ctx) => {
  let u: URL | undefined;
  try {
    u = new URL(s.trim());
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '' || (u.pathname !== '/' && u.pathname !== '')) {
    ctx.addIssue({ code: 'custom', message: `not an origin like https://monitor.example:8443 ("${s}")`, input: s });
    return z.NEVER;
  }
  return u.origin;
});

const serverSchema = z.strictObject({
  host: nonEmptyString.default('127.0.0.1'),
  port: port.default(8080),
  tokens: z.array(z.string().min(1)).default([]),
  /**
   * Extra names the server answers to in `Host` (a reverse proxy's or a DNS name of this machine). Without them
   * only IP literals of the listening address and `localhost` are served: the DNS-rebinding defence (issue #17).
   */
  hostnames: z.array(hostnameSchema).max(256).optional(),
  /**
   * Origins of other pages allowed to open `/alerts` (e.g. a TLS proxy's `https://monitor.example`). The page's
   * own origin is always allowed, and clients that send no `Origin` (tail, scripts) are not affected.
   */
  allowedOrigins: z.array(originSchema).max(256).optional(),
  heartbeatSeconds: positiveNumber.default(30),
  maxClientBufferBytes: positiveInt.default(4 * 1024 * 1024),
  slowClientSeconds: positiveNumber.default(10),
});

const storeSchema = z.strictObject({
  path: nonEmptyString.default('./spoofwatch.db'),
  retentionDays: positiveNumber.default(30),
  maxAlerts: positiveInt.default(1_000_000),
});

const limitsSchema = z.strictObject({
  calls: positiveInt.default(100_000),
  callIdleSeconds: positiveNumber.default(900),
  fragments: positiveInt.default(4096),
  fragmentTimeoutSeconds: positiveNumber.default(30),
  flows: positiveInt.default(10_000),
  flowIdleSeconds: positiveNumber.default(300),
  flowBufferBytes: positiveInt.default(256 * 1024),
  reassemblyBytes: positiveInt.default(64 * 1024 * 1024),
  messageBytes: positiveInt.default(64 * 1024),
  sinkQueue: positiveInt.default(10_000),
  alertSpill: positiveInt.default(20_000),
  windowKeys: positiveInt.default(100_000),
  numberCache: positiveInt.default(10_000),
  peerCache: positiveInt.default(4096),
  wsClients: positiveInt.default(256),
  wsBufferBytes: positiveInt.default(64 * 1024 * 1024),
  httpConnections: positiveInt.default(1024),
});

/**
 * `incidents` (issue #19): how alerts group into incidents. `rules.<id>` overrides the quiet period and the key
 * (`source`: the peer, or the source address of an unknown source; `numberPrefix`: the first `prefixDigits` of
 * the presented E.164 number).
 */
const incidentsSchema = z.strictObject({
  quietSeconds: positiveNumber.default(600),
  updateSeconds: positiveNumber.default(5),
  maxOpen: positiveInt.max(1_000_000).default(10_000),
  rules: z
    .record(
      z.string(),
      z.strictObject({
        quietSeconds: positiveNumber.optional(),
        key: z.enum(['source', 'numberPrefix']).optional(),
        prefixDigits: z.number().int().min(1).max(15).optional(),
      }),
    )
    .default({}),
});


/**
 * `cluster` (issue #22): roles of this process on a NATS JetStream cluster (src/cluster). Absent: the single-node
 * daemon on SQLite, unchanged. Durations are `<n>s|m|h|d` strings (`30d`).
 */
const durationSchema = z.string().regex(/^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)$/, 'expected a duration like 500ms, 90s, 10m, 1h or 30d');
const CLUSTER_ROLES = ['sensor', 'correlator', 'gateway'] as const;
const clusterSchema = z
  .strictObject({
    nats: z.strictObject({
      servers: z.array(nonEmptyString).min(1),
      token: nonEmptyString.optional(),
      user: nonEmptyString.optional(),
      pass: z.string().optional(),
      tls: z.strictObject({ ca: nonEmptyString.optional(), cert: nonEmptyString.optional(), key: nonEmptyString.optional() }).optional(),
    }),
    role: z.array(z.enum(CLUSTER_ROLES)).min(1).default([...CLUSTER_ROLES]),
    /** Unique per sensor; a NATS KV key part, so letters, digits, `-` and `_`. */
    sensorId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only (1-64)').optional(),
    shards: positiveInt.max(1024).default(16),
    /** Shards this correlator owns; default all. */
    ownShards: z.array(z.number().int().min(0)).min(1).optional(),
    /** Wall time a correlator holds each fact to release a shard's facts in capture-time order. */
    reorderMs: z.number().int().min(0).max(60_000).default(500),
    stream: z
      .strictObject({
        replicas: z.number().int().min(1).max(5).default(3),
        maxAge: durationSchema.default('30d'),
        factMaxAge: durationSchema.optional(),
        duplicateWindow: durationSchema.optional(),
      })
      .prefault({}),
    buffer: z.strictObject({ maxAlerts: positiveInt.default(20_000), maxFacts: positiveInt.default(100_000) }).prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.role.includes('sensor') && c.sensorId === undefined) ctx.addIssue({ code: 'custom', path: ['sensorId'], message: 'required with the sensor role' });
    for (const [i, n] of (c.ownShards ?? []).entries()) {
      if (n >= c.shards) ctx.addIssue({ code: 'custom', path: ['ownShards', i], message: `shard ${n} does not exist (shards: ${c.shards})` });
    }
  });

export const configFileSchema = z.strictObject({
  homeCountry: countrySchema.default('NL'),
  /** Country rule packs applied besides the home country's (src/identity/packs): NL, GB, DE, US, AU. */
  rulePacks: z.array(rulePackSchema).default([]),
  peers: z.array(peerSchema).default([]),
  lists: listsSchema.prefault({}),
  stirShaken: stirShakenSchema.prefault({}),
  rules: rulesSchema.default({}),
  sources: sourcesSchema.prefault({ sip: undefined, hep: undefined, watch: undefined }),
  server: serverSchema.prefault({}),
  store: storeSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  incidents: incidentsSchema.prefault({}),
  suppress: z.array(suppressSchema).max(10_000).default([]),
  threshold: z.array(thresholdSchema).max(1_000).default([]),
  cluster: clusterSchema.optional(),
});

export type ConfigFile = z.output<typeof configFileSchema>;

type PathSegment = PropertyKey;

/** `peers[2].allowedNumbers[0]`; the root is `(root)`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      out += /^[A-Za-z_][\w-]*$/.test(key) ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(root)' : out;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** How a value reads in a message: strings quoted, containers named. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

type Issue = z.core.$ZodIssue;

function issueLines(issue: Issue, basePath: readonly PathSegment[], root: unknown): string[] {
  const path = [...basePath, ...issue.path];
  const at = formatPath(path);
  const value = valueAt(root, path);
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    // A missing choice (peer class, trust) names its allowed values: they are not written anywhere else.
    if (issue.code === 'invalid_value') return [`${at}: required, one of ${issue.values.map((v) => String(v)).join('|')}`];
    return [`${at}: required`];
  }
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.expected === 'string' && typeof value === 'number') {
        // YAML reads unquoted digits as a number: `+`, leading zeros and digits past 2^53 are already lost.
        return [`${at}: ${String(value)} is read as a number; quote it ("${String(value)}") — a phone number needs quotes, with its "+"`];
      }
      if (issue.expected === 'int' || (issue.expected === 'number' && typeof value === 'number')) {
        return [`${at}: expected an integer, got ${describeValue(value)}`];
      }
      return [`${at}: expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(value)}`];
    }
    case 'too_small': {
      if (issue.origin === 'array') {
        return [`${at}: must have at least ${String(issue.minimum)} ${issue.minimum === 1 ? 'entry' : 'entries'}`];
      }
      if (issue.origin === 'string') return [`${at}: must not be empty`];
      if (issue.minimum === 0 && issue.inclusive === false) return [`${at}: must be greater than 0, got ${describeValue(value)}`];
      return [`${at}: must be at least ${String(issue.minimum)}, got ${describeValue(value)}`];
    }
    case 'too_big':
      return [`${at}: must be at most ${String(issue.maximum)}, got ${describeValue(value)}`];
    case 'invalid_value':
      return [`${at}: expected ${issue.values.map((v) => String(v)).join('|')}, got ${describeValue(value)}`];
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${formatPath([...path, k])}: unknown key`);
    case 'invalid_union': {
      // Report the branch whose type matched the value (e.g. the list branch for a list), so the
      // message points inside it; otherwise say which shapes are accepted.
      for (const branch of issue.errors) {
        const inside = branch.every((i) => i.path.length > 0 || i.code === 'unrecognized_keys');
        if (inside && branch.length > 0) return branch.flatMap((i) => issueLines(i, path, root));
      }
      const shapes = unionShapes(issue);
      return [`${at}: expected ${shapes}, got ${describeValue(value)}`];
    }
    default:
      return [`${at}: ${issue.message}`];
  }
}

function unionShapes(issue: z.core.$ZodIssueInvalidUnion): string {
  const names: string[] = [];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first === undefined) continue;
    if (first.code === 'invalid_type') names.push(TYPE_NAMES[first.expected] ?? first.expected);
    else if (first.code === 'invalid_value') names.push(first.values.map((v) => String(v)).join('|'));
  }
  return [...new Set(names)].join(' or ');
}

/** One line per zod issue, in schema order. */
export function formatIssues(issues: readonly Issue[], root: unknown): string[] {
  return issues.flatMap((i) => issueLines(i, [], root));
}
