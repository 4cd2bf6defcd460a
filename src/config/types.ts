/**
 * The validated configuration (DESIGN.md §5 "Config"). Produced only by `parseConfig`/`loadConfig`,
 * deeply frozen; modules receive the slice they need (DESIGN.md §8.5).
 */
import type { Severity } from '../alerts/alert.js';
import type { Transport } from '../types.js';

export const PEER_TRUST = ['trusted', 'untrusted'] as const;
export type PeerTrust = (typeof PEER_TRUST)[number];

export const PEER_CLASSES = ['access', 'national', 'international', 'enterprise'] as const;
export type PeerClass = (typeof PEER_CLASSES)[number];

export const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws'] as const satisfies readonly Transport[];

export interface PeerMatchConfig {
  /** IPv4/IPv6 CIDRs or bare addresses, canonicalised (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.2/32`). */
  readonly cidrs: readonly string[];
  /** Source port the peer sends from. */
  readonly port?: number;
  /** Transports the peer uses (`transport: udp` in the file becomes `['udp']`). */
  readonly transport?: readonly Transport[];
  /** HEP capture agent id the peer's traffic is captured by. */
  readonly hepCaptureId?: number;
  /** Cluster mode (issue #22): the sensor (`cluster.sensorId`) that captures the peer's traffic. */
  readonly sensorId?: string;
}

export interface PeerConfig {
  readonly name: string;
  readonly match: PeerMatchConfig;
  readonly trust: PeerTrust;
  readonly class: PeerClass;
  /** ISO 3166 alpha-2, upper case; defaults to `homeCountry`. */
  readonly country: string;
  /** E.164 prefixes (`+3120555`) or ranges (`+31205550000-+31205559999`) the peer owns. */
  readonly allowedNumbers: readonly string[];
  /** Further numbers the peer may present (same syntax). */
  readonly presentationNumbers: readonly string[];
  /** Transit carrier: may present any number. */
  readonly any: boolean;
  readonly description?: string;
}

export interface ProtectedNumberConfig {
  readonly number: string;
  readonly owner: string;
  /** Names of peers through which the owner calls. */
  readonly ownerPeers: readonly string[];
}

export interface DoNotOriginateConfig {
  readonly number: string;
  readonly owner?: string;
}

export interface BrandConfig {
  readonly name: string;
  readonly displayNames: readonly string[];
  readonly numbers: readonly string[];
}

export interface ListsConfig {
  readonly protected: readonly ProtectedNumberConfig[];
  readonly doNotOriginate: readonly DoNotOriginateConfig[];
  /**
   * Do-not-originate list files, read at start, on SIGHUP and (daemon) when they change: one E.164 number or
   * range per line, or CSV `number,owner` (src/identity/dno-file.ts). Relative paths are against the config file.
   */
  readonly doNotOriginateFiles: readonly string[];
  readonly brands: readonly BrandConfig[];
}

export interface StirShakenConfig {
  /** PEM files with trust anchor certificates. */
  readonly trustAnchors: readonly string[];
  /** Folder of cached certificates keyed by x5u URL. */
  readonly certCacheDir?: string;
  /** Maximum |capture time − iat| in seconds (RFC 8224 §6.2.2 recommends 60). */
  readonly freshnessSeconds: number;
}

/** A rule parameter as written in the config (window seconds, thresholds, extra markers …). */
export type RuleParam = number | boolean | string | readonly string[];

export interface RuleConfig {
  readonly enabled: boolean;
  readonly severity?: Severity;
  /** Every other key of the rule's entry. */
  readonly params: Readonly<Record<string, RuleParam>>;
}

export interface ListenerConfig {
  readonly host: string;
  readonly port: number;
  readonly udp: boolean;
  readonly tcp: boolean;
  /**
   * Canonical CIDRs allowed to send; others are dropped and counted (`listener.refused-source`). Required when
   * `host` is not loopback; absent on a loopback listener means any local sender.
   */
  readonly allowFrom?: readonly string[];
}

/** A HEP v3 listener (DESIGN.md §9): `allowFrom` plus the agent checks HEP itself carries. */
export interface HepListenerConfig extends ListenerConfig {
  /** HEP chunk 14 every packet must carry, byte for byte; others are dropped (`hep.refused-auth-key`). */
  readonly authKey?: string;
  /** HEP chunk 12 (capture agent id) allow-list; others are dropped (`hep.refused-capture-id`). */
  readonly captureIds?: readonly number[];
}

/** SIP over WebSocket listener (RFC 7118): what browser softphones (SIP.js, JsSIP) connect to. */
export interface SipWsConfig {
  readonly host: string;
  readonly port: number;
  /** Only upgrades on this request path are accepted; any path when absent. */
  readonly path?: string;
  /** Open connections at once; more are refused with 503 and counted. */
  readonly maxConnections: number;
  /** Largest message (all fragments); a larger one closes the connection with 1009 and is counted. */
  readonly maxMessageBytes: number;
}

export interface SourcesConfig {
  /** Plain SIP listeners (a mirror or a proxy's copy). */
  readonly sip?: ListenerConfig;
  /** HEP v3 listeners. */
  readonly hep?: HepListenerConfig;
  /** Folder watched for new pcap/pcapng files. */
  readonly watch?: { readonly dir: string; readonly pollSeconds: number };
  /** Live capture through `tcpdump -U -w -`. */
  readonly interface?: { readonly name: string; readonly filter?: string };
  /** SIP over WebSocket listener (off by default). */
  readonly sipWs?: SipWsConfig;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Bearer tokens accepted on /alerts and /api; without any the server must stay on loopback. */
  readonly tokens: readonly string[];
  /** Names accepted in `Host` besides the listening address's IP literals and `localhost` (DNS rebinding). */
  readonly hostnames?: readonly string[];
  /** Browser origins allowed to open `/alerts` besides the page's own (serialised, e.g. `https://x.example`). */
  readonly allowedOrigins?: readonly string[];
  /** WebSocket heartbeat ping interval. */
  readonly heartbeatSeconds: number;
  /** A client whose send buffer stays above this many bytes … */
  readonly maxClientBufferBytes: number;
  /** … for longer than this is closed with 1013. */
  readonly slowClientSeconds: number;
}

export interface StoreConfig {
  readonly path: string;
  readonly retentionDays: number;
  readonly maxAlerts: number;
}

/** Bounds on everything that grows (DESIGN.md §8.4). */
export interface LimitsConfig {
  readonly calls: number;
  readonly callIdleSeconds: number;
  readonly fragments: number;
  readonly fragmentTimeoutSeconds: number;
  readonly flows: number;
  readonly flowIdleSeconds: number;
  readonly flowBufferBytes: number;
  /** Bytes held for reassembly by all TCP streams of a source together (decoder and SIP framers, each). */
  readonly reassemblyBytes: number;
  readonly messageBytes: number;
  readonly sinkQueue: number;
  /** Alerts kept while the store refuses writes (issue #17); beyond it new alerts are dropped and counted. About 1.2 KB of heap each. */
  readonly alertSpill: number;
  readonly windowKeys: number;
  readonly numberCache: number;
  readonly peerCache: number;
  /** WebSocket alert clients at once; the next is closed with 1013 and a reason naming this limit. */
  readonly wsClients: number;
  /** Unsent bytes of all WebSocket clients together; over it, clients with a backlog are paused, then closed with 1013. */
  readonly wsBufferBytes: number;
  /** Open HTTP connections (WebSocket clients included); further connections are closed on accept and counted. */
  readonly httpConnections: number;
}

export type IncidentKeyMode = 'source' | 'numberPrefix';

export interface IncidentRuleConfig {
  readonly quietSeconds?: number;
  readonly key?: IncidentKeyMode;
  /** Digits of the E.164 number (after `+`) that make the prefix; default 6. */
  readonly prefixDigits?: number;
}

/** `incidents` in the config (issue #19; used by src/incidents). */
export interface IncidentsConfig {
  /** Capture-time quiet period after which an incident closes; default 600. */
  readonly quietSeconds: number;
  /** At most one WebSocket update per incident per this many seconds while it grows; default 5. */
  readonly updateSeconds: number;
  /** Open incidents kept; the least recently grown one is closed early when a new key needs room. */
  readonly maxOpen: number;
  readonly rules: Readonly<Record<string, IncidentRuleConfig>>;
}

/**
 * `suppress` entry (Suricata's `suppress`, issue #19): alerts of `rule` that match every given field are stored,
 * marked `suppressed: true`, and not streamed (WebSocket, console) nor grouped into incidents.
 */
export interface SuppressConfig {
  readonly rule: string;
  /** Peer name the alert came from. */
  readonly peer?: string;
  /** Canonical CIDR the alert's source address lies in. */
  readonly src?: string;
  /** Presented number: an E.164 prefix or range (`+3120555`), or a glob with `*` and `?` (`+31*0000`). */
  readonly number?: string;
  /** ISO 8601; alerts with a capture time at or after it are no longer suppressed. */
  readonly expires?: string;
}

export const THRESHOLD_TRACKS = ['by_peer', 'by_src', 'by_number'] as const;
export type ThresholdTrack = (typeof THRESHOLD_TRACKS)[number];

/**
 * `threshold` entry (Suricata's `threshold`, issue #19): per track key, alerts of `rule` are streamed (and grouped)
 * only from the `count`-th one within a window of `seconds` of capture time; the ones before are stored, marked
 * `belowThreshold: true`.
 */
export interface ThresholdConfig {
  readonly rule: string;
  readonly track: ThresholdTrack;
  readonly count: number;
  readonly seconds: number;
}

export interface Config {
  readonly homeCountry: string;
  /** Country rule packs applied besides the home country's (NL, GB, DE, US, AU; src/identity/packs). */
  readonly rulePacks: readonly string[];
  readonly peers: readonly PeerConfig[];
  readonly lists: ListsConfig;
  readonly stirShaken: StirShakenConfig;
  readonly rules: Readonly<Record<string, RuleConfig>>;
  readonly sources: SourcesConfig;
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly limits: LimitsConfig;
  /** Alert grouping (issue #19); absent in hand-built configs means the defaults (`INCIDENTS_DEFAULTS`). */
  readonly incidents?: IncidentsConfig;
  /** Suppressions (issue #19); absent in hand-built configs means none. */
  readonly suppress?: readonly SuppressConfig[];
  /** Thresholds, at most one per rule (issue #19); absent means none. */
  readonly threshold?: readonly ThresholdConfig[];
  /** Scale-out roles on NATS JetStream (issue #22); absent: the single-node daemon. */
  readonly cluster?: ClusterConfig;
}

export type ClusterRole = 'sensor' | 'correlator' | 'gateway';

/** `cluster` in the config (issue #22; used by src/cluster). Durations are strings like `30d`, `10m`, `500ms`. */
export interface ClusterConfig {
  readonly nats: {
    readonly servers: readonly string[];
    readonly token?: string | undefined;
    readonly user?: string | undefined;
    readonly pass?: string | undefined;
    readonly tls?: { readonly ca?: string | undefined; readonly cert?: string | undefined; readonly key?: string | undefined } | undefined;
  };
  readonly role: readonly ClusterRole[];
  /** Required with the sensor role; in every alert's `network.sensor`. */
  readonly sensorId?: string | undefined;
  readonly shards: number;
  /** Shards this correlator owns; default all. */
  readonly ownShards?: readonly number[] | undefined;
  /** Wall-time hold of each fact in a correlator's reorder buffer (ms). */
  readonly reorderMs: number;
  readonly stream: {
    readonly replicas: number;
    readonly maxAge: string;
    /** Fact retention; default the longest enabled window. */
    readonly factMaxAge?: string | undefined;
    /** JetStream duplicate window of the alert stream; default fact retention + 10 min. */
    readonly duplicateWindow?: string | undefined;
  };
  /** Sensor buffers while NATS is unreachable. */
  readonly buffer: { readonly maxAlerts: number; readonly maxFacts: number };
}
