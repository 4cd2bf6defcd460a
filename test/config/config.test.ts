import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { makePki } from '../shaken/pki.js';
import {
  DEFAULT_CONFIG_YAML,
  defaultConfig,
  describeConfig,
  loadConfig,
  numberParam,
  parseConfig,
  ruleSettings,
  type Config,
} from '../../src/config/index.js';

interface PeerIn {
  name: string;
  match: { cidrs: unknown; transport?: unknown; [k: string]: unknown };
  trust: string;
  class?: string;
  [k: string]: unknown;
}
interface BaseIn {
  homeCountry: string;
  peers: PeerIn[];
  lists: {
    protected: Array<{ number: string; owner: string; ownerPeers: string[] }>;
    doNotOriginate: Array<{ number: string }>;
    brands: unknown[];
  };
  [k: string]: unknown;
}

/** A small valid config as a plain object; each invalid case changes one thing. */
function base(): BaseIn {
  return {
    homeCountry: 'NL',
    peers: [
      {
        name: 'pbx',
        match: { cidrs: ['192.0.2.10'], transport: 'udp' },
        trust: 'trusted',
        class: 'enterprise',
        allowedNumbers: ['+31205551000-+31205551999'],
      },
      { name: 'carrier', match: { cidrs: ['2001:db8::/32'] }, trust: 'trusted', class: 'international', any: true },
    ],
    lists: {
      protected: [{ number: '+31205551000', owner: 'law firm', ownerPeers: ['pbx'] }],
      doNotOriginate: [{ number: '+31205550999' }],
      brands: [{ name: 'Bank', displayNames: ['Bank'], numbers: ['+3120555099'] }],
    },
  };
}

function ok(text: string, file = 'test.yaml'): Config {
  const r = parseConfig(text, file);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function errorsOf(obj: unknown): string[] {
  const r = parseConfig(stringify(obj), 'test.yaml');
  return r.ok ? [] : r.errors;
}

function withChange(change: (c: BaseIn) => void): BaseIn {
  const c = base();
  change(c);
  return c;
}

describe('parseConfig: invalid configs name the path and the problem', () => {
  const cases: Array<[string, BaseIn, string[]]> = [
    [
      'number that is not E.164',
      withChange((c) => (c.peers[0]!.allowedNumbers = ['+3120555', '031205550000'])),
      ['peers[0].allowedNumbers[1]: not an E.164 prefix or range ("031205550000")'],
    ],
    [
      'range ends of different length',
      withChange((c) => (c.peers[1]!.presentationNumbers = ['+3120-+312099'])),
      ['peers[1].presentationNumbers[0]: range ends differ in length ("+3120-+312099")'],
    ],
    [
      'reversed range',
      withChange((c) => (c.lists.doNotOriginate[0]!.number = '+31205559999-+31205550000')),
      ['lists.doNotOriginate[0].number: range start is after its end ("+31205559999-+31205550000")'],
    ],
    [
      'duplicate peer name',
      withChange((c) => (c.peers[1]!.name = 'pbx')),
      ['peers[1].name: duplicate peer name "pbx" (also peers[0])'],
    ],
    [
      'owner peer that does not exist',
      withChange((c) => (c.lists.protected[0]!.ownerPeers = ['pbx', 'pbx-acme'])),
      ['lists.protected[0].ownerPeers[1]: no peer named "pbx-acme"'],
    ],
    [
      'CIDR with host bits',
      withChange((c) => (c.peers[0]!.match.cidrs = ['10.1.2.3/8'])),
      ['peers[0].match.cidrs[0]: host bits set after the prefix ("10.1.2.3/8"; did you mean "10.0.0.0/8"?)'],
    ],
    [
      'CIDR prefix too long',
      withChange((c) => (c.peers[1]!.match.cidrs = ['2001:db8::/129'])),
      ['peers[1].match.cidrs[0]: prefix length must be 0-128 ("2001:db8::/129")'],
    ],
    [
      'not an address',
      withChange((c) => (c.peers[0]!.match.cidrs = ['192.0.2.300'])),
      ['peers[0].match.cidrs[0]: not an IPv4 or IPv6 address or CIDR ("192.0.2.300")'],
    ],
    [
      'empty token',
      withChange((c) => (c.server = { tokens: ['s3cret', ''] })),
      ['server.tokens[1]: must not be empty'],
    ],
    [
      'public bind without tokens',
      withChange((c) => (c.server = { host: '0.0.0.0' })),
      ['server.tokens: required when server.host ("0.0.0.0") is not a loopback address'],
    ],
    [
      'unknown trust value',
      withChange((c) => (c.peers[0]!.trust = 'trustworthy')),
      ['peers[0].trust: expected trusted|untrusted, got "trustworthy"'],
    ],
    [
      'unknown transport in a list',
      withChange((c) => (c.peers[0]!.match.transport = ['udp', 'sctp'])),
      ['peers[0].match.transport[1]: expected udp|tcp|tls|ws, got "sctp"'],
    ],
    [
      'misspelt key',
      withChange((c) => (c.peers[0]!.allowedNumber = ['+31'])),
      ['peers[0].allowedNumber: unknown key'],
    ],
    ['missing class', withChange((c) => delete c.peers[1]!.class), ['peers[1].class: required, one of access|national|international|enterprise']],
    [
      'bad country',
      withChange((c) => (c.peers[1]!.country = 'UK')),
      ['peers[1].country: not an ISO 3166 alpha-2 country code ("UK")'],
    ],
    [
      'port out of range',
      withChange((c) => (c.sources = { hep: { port: 70000 } })),
      ['sources.hep.port: must be at most 65535, got 70000'],
    ],
    [
      'non-integer limit',
      withChange((c) => (c.limits = { calls: 10.5 })),
      ['limits.calls: expected an integer, got 10.5'],
    ],
    [
      'zero freshness',
      withChange((c) => (c.stirShaken = { freshnessSeconds: 0 })),
      ['stirShaken.freshnessSeconds: must be at least 1, got 0'],
    ],
    [
      'severity override that is not a severity',
      withChange((c) => (c.rules = { 'CLI-DNO': { severity: 'urgent' } })),
      ['rules.CLI-DNO.severity: expected info|low|medium|high|critical, got "urgent"'],
    ],
    [
      'rule id in lower case',
      withChange((c) => (c.rules = { 'cli-dno': false })),
      ['rules.cli-dno: not a rule id (upper-case words joined by "-", e.g. "CLI-DNO"); did you mean CLI-DNO?'],
    ],
    [
      'peer without addresses',
      withChange((c) => (c.peers[0]!.match.cidrs = [])),
      ['peers[0].match.cidrs: must have at least 1 entry'],
    ],
    [
      'two peers on the same address and constraints',
      withChange((c) => (c.peers[1]!.match = { cidrs: ['192.0.2.10/32'], transport: ['udp'] })),
      [
        'peers[1].match.cidrs[0]: "192.0.2.10/32" with the same port, transport, HEP capture id and sensor is already matched by peers[0] ("pbx")',
      ],
    ],
    [
      'two listeners on one socket',
      withChange((c) => (c.sources = { hep: { port: 5060, tcp: false } })),
      ['sources.hep.port: 5060/udp on 127.0.0.1 is also used by sources.sip'],
    ],
    ['peers not a list', withChange((c) => ((c as Record<string, unknown>).peers = 'pbx')), ['peers: expected a list, got "pbx"']],
    [
      'several problems at once, in file order',
      withChange((c) => {
        c.homeCountry = 'XX';
        c.peers[0]!.class = 'carrier';
        c.store = { maxAlerts: -1 };
      }),
      [
        'homeCountry: not an ISO 3166 alpha-2 country code ("XX")',
        'peers[0].class: expected access|national|international|enterprise, got "carrier"',
        'store.maxAlerts: must be at least 1, got -1',
      ],
    ],
  ];

  it('the base config itself is valid', () => {
    expect(errorsOf(base())).toEqual([]);
  });

  it.each(cases)('%s', (_name, obj, expected) => {
    expect(errorsOf(obj)).toEqual(expected);
  });

  it('reports YAML syntax errors with file, line and column', () => {
    expect(parseConfig('homeCountry: NL\nhomeCountry: BE\n', 'lab.yaml')).toEqual({
      ok: false,
      errors: ['lab.yaml:2:1: Map keys must be unique'],
    });
  });

  it('reports JSON syntax errors with the file name', () => {
    const r = parseConfig('{"homeCountry": }', 'lab.json');
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors.map((e) => e.startsWith('lab.json: invalid JSON: '))).toEqual([true]);
  });

  it('rejects a document that is not a mapping', () => {
    expect(parseConfig('- a\n- b\n', 'lab.yaml')).toEqual({ ok: false, errors: ['(root): expected a mapping, got a list'] });
  });
});

describe('parseConfig: valid configs', () => {
  it('gives the same config from YAML and from JSON', () => {
    const obj = base();
    const fromYaml = ok(stringify(obj), 'a.yaml');
    const fromJson = ok(JSON.stringify(obj, null, 2), 'a.json');
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.peers[0]).toEqual({
      name: 'pbx',
      match: { cidrs: ['192.0.2.10/32'], transport: ['udp'] },
      trust: 'trusted',
      class: 'enterprise',
      country: 'NL',
      allowedNumbers: ['+31205551000-+31205551999'],
      presentationNumbers: [],
      any: false,
    });
    expect(fromYaml.peers[1]?.match.cidrs).toEqual(['2001:db8::/32']);
  });

  it('keeps unquoted +CC and 0-leading numbers as written (YAML would read them as integers)', () => {
    const c = ok('peers:\n  - name: p\n    match: { cidrs: [10.0.0.0/8] }\n    trust: trusted\n    class: access\n    allowedNumbers: [+3120555]\n');
    expect(c.peers[0]?.allowedNumbers).toEqual(['+3120555']);
    const r = parseConfig('lists:\n  doNotOriginate:\n    - number: 031205550000\n', 'x.yaml');
    expect(r).toEqual({ ok: false, errors: ['lists.doNotOriginate[0].number: not an E.164 prefix or range ("031205550000")'] });
  });

  it('fills defaults for an empty file', () => {
    const c = ok('');
    expect(c.homeCountry).toBe('NL');
    expect(c.peers).toEqual([]);
    expect(c.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      tokens: [],
      heartbeatSeconds: 30,
      maxClientBufferBytes: 4194304,
      slowClientSeconds: 10,
    });
    expect(c.store).toEqual({ path: './spoofwatch.db', retentionDays: 30, maxAlerts: 1000000 });
    expect(c.stirShaken).toEqual({ trustAnchors: [], freshnessSeconds: 60 });
    expect(c.sources).toEqual({
      sip: { host: '127.0.0.1', port: 5060, udp: true, tcp: true },
      hep: { host: '127.0.0.1', port: 9060, udp: true, tcp: true },
      watch: { dir: 'captures/', pollSeconds: 2 },
    });
  });

  it('turns sources off with false and on with true', () => {
    const c = ok('sources: { sip: false, hep: true, watch: false, interface: { name: eth0 } }');
    expect(c.sources).toEqual({ hep: { host: '127.0.0.1', port: 9060, udp: true, tcp: true }, interface: { name: 'eth0' } });
  });

  it('reads rule overrides: false disables, other keys become params', () => {
    const c = ok('rules:\n  UA-ATTACK-TOOL: false\n  CLI-VELOCITY: { severity: high, perMinute: 30, extra: [a, b] }\n');
    expect(c.rules).toEqual({
      'UA-ATTACK-TOOL': { enabled: false, params: {} },
      'CLI-VELOCITY': { enabled: true, severity: 'high', params: { perMinute: 30, extra: ['a', 'b'] } },
    });
    expect(ruleSettings(c, 'CLI-DNO')).toEqual({ enabled: true, params: {} });
    expect(numberParam(ruleSettings(c, 'CLI-VELOCITY'), 'perMinute', 10)).toBe(30);
    expect(numberParam(ruleSettings(c, 'CLI-VELOCITY'), 'concurrent', 10)).toBe(10);
  });

  it('lets a public bind through when tokens are configured, and a peer inherit homeCountry', () => {
    const c = ok('homeCountry: de\nserver: { host: 0.0.0.0, tokens: [abc] }\npeers:\n  - { name: p, match: { cidrs: ["::ffff:10.0.0.0/104"] }, trust: untrusted, class: access }\n');
    expect(c.server.host).toBe('0.0.0.0');
    expect(c.homeCountry).toBe('DE');
    expect(c.peers[0]?.country).toBe('DE');
    expect(c.peers[0]?.match.cidrs).toEqual(['10.0.0.0/8']);
  });

  it('returns a deeply frozen config', () => {
    const c = ok(stringify(base()));
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.peers[0]?.match.cidrs)).toBe(true);
    expect(Object.isFrozen(c.lists.protected[0])).toBe(true);
  });
});

describe('default config', () => {
  it('parses and describes the lab', () => {
    expect(parseConfig(DEFAULT_CONFIG_YAML, 'default').ok).toBe(true);
    const c = defaultConfig();
    expect(c.peers.map((p) => [p.name, p.match.cidrs[0], p.trust, p.class])).toEqual([
      ['local', '127.0.0.1/32', 'trusted', 'access'],
      ['pbx-acme', '127.0.0.10/32', 'trusted', 'enterprise'],
      ['carrier-nl', '127.0.0.11/32', 'trusted', 'national'],
      ['carrier-intl', '127.0.0.12/32', 'trusted', 'international'],
      ['access-untrusted', '127.0.0.13/32', 'untrusted', 'access'],
      ['lawfirm-pbx', '127.0.0.14/32', 'trusted', 'enterprise'],
    ]);
    expect(describeConfig(c)).toBe(
      [
        'home country: NL',
        'rule packs: NL (home) Netherlands',
        'peers: 6',
        '  local             trusted   access        NL  127.0.0.1/32  1 allowed entry, 0 presentation entries',
        '  pbx-acme          trusted   enterprise    NL  127.0.0.10/32 (udp)  1 allowed entry, 1 presentation entry',
        '  carrier-nl        trusted   national      NL  127.0.0.11/32  any number',
        '  carrier-intl      trusted   international DE  127.0.0.12/32  any number',
        '  access-untrusted  untrusted access        NL  127.0.0.13/32  1 allowed entry, 0 presentation entries',
        '  lawfirm-pbx       trusted   enterprise    NL  127.0.0.14/32  1 allowed entry, 0 presentation entries',
        'lists: 1 protected number, 1 do-not-originate number, 1 brand',
        'stir/shaken: 0 trust anchors, certificate cache (none), freshness 60 s',
        'rules: all enabled with default settings',
        'sources: sip udp+tcp 127.0.0.1:5060; hep udp+tcp 127.0.0.1:9060; watch captures/scenario/',
        'server: http://127.0.0.1:8080 (no tokens: loopback only)',
        'store: ./spoofwatch.db (retention 30 days, at most 1000000 alerts)',
      ].join('\n'),
    );
  });

  it('rulePacks: adds country packs (uk is GB), names unknown ones, and config check lists them after the home pack', () => {
    const c = ok('homeCountry: BE\nrulePacks: [uk, DE, US]\n');
    expect(c.rulePacks).toEqual(['GB', 'DE', 'US']);
    expect(describeConfig(c).split('\n')[1]).toBe(
      'rule packs: BE (home) without a pack: generic rules, GB United Kingdom, DE Germany, US United States (NANP)',
    );
    expect(errorsOf({ rulePacks: ['FR'] })).toEqual(['rulePacks[0]: no rule pack for "FR" (packs: NL, GB, DE, US, AU)']);
  });

  it('config check reads the do-not-originate files and names their bad lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-dno-cfg-'));
    try {
      writeFileSync(join(dir, 'dno.csv'), 'number,owner\n+31201234567,Bank\n0201234568,Bank\n');
      writeFileSync(join(dir, 'sw.yaml'), 'lists: { doNotOriginateFiles: [dno.csv, missing.txt] }\n');
      const r = loadConfig(join(dir, 'sw.yaml'));
      if (!r.ok) throw new Error(r.errors.join('\n'));
      expect(r.config.lists.doNotOriginateFiles).toEqual([join(dir, 'dno.csv'), join(dir, 'missing.txt')]);
      expect(describeConfig(r.config).split('\n').filter((l) => l.startsWith('  do-not') || l.startsWith('    '))).toEqual([
        `  do-not-originate file ${join(dir, 'dno.csv')}: 1 entry, 1 bad line skipped`,
        `    ${join(dir, 'dno.csv')}:3: not an E.164 number or range ("0201234568"; write +CC… with 1–15 digits, or +lo-+hi)`,
        `  do-not-originate file ${join(dir, 'missing.txt')}: NOT READ (does not exist (ENOENT))`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes rule overrides, tokens and constraints', () => {
    const c = ok(
      'rules: { CLI-DNO: false, CLI-VELOCITY: { severity: low, perMinute: 5 } }\nserver: { tokens: [a, b] }\nsources: { sip: false, hep: false, watch: false }\n' +
        'peers: [{ name: p, match: { cidrs: [10.0.0.0/8], port: 5060, hepCaptureId: 7 }, trust: trusted, class: national }]\n',
    );
    const lines = describeConfig(c).split('\n');
    expect(lines[1]).toBe('rule packs: NL (home) Netherlands');
    expect(lines[3]).toBe('  p  trusted   national      NL  10.0.0.0/8 (port 5060, hep 7)  0 allowed entries, 0 presentation entries');
    expect(lines.filter((l) => /^(rules|sources|server):/.test(l))).toEqual([
      'rules: CLI-DNO disabled; CLI-VELOCITY low perMinute=5',
      'sources: none',
      'server: http://127.0.0.1:8080 (2 tokens)',
    ]);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves relative paths against the config file folder', () => {
    writeFileSync(join(dir, 'ca.pem'), makePki({ now: new Date('2025-03-01T12:00:00Z') }).root.cert.pem);
    mkdirSync(join(dir, 'certs'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, 'stirShaken: { trustAnchors: [ca.pem], certCacheDir: certs }\nstore: { path: alerts.db }\nsources: { watch: { dir: incoming } }\n');
    const r = loadConfig(file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.stirShaken.trustAnchors).toEqual([join(dir, 'ca.pem')]);
    expect(r.config.stirShaken.certCacheDir).toBe(join(dir, 'certs'));
    expect(r.config.store.path).toBe(join(dir, 'alerts.db'));
    expect(r.config.sources.watch?.dir).toBe(join(dir, 'incoming'));
    expect(Object.isFrozen(r.config.stirShaken)).toBe(true);
  });

  it('reports a trust anchor that cannot be read', () => {
    const file = join(dir, 'anchors.yaml');
    writeFileSync(file, 'stirShaken: { trustAnchors: [missing.pem] }\n');
    expect(loadConfig(file)).toEqual({
      ok: false,
      errors: [`stirShaken.trustAnchors[0]: ${join(dir, 'missing.pem')} does not exist (ENOENT)`],
    });
  });

  it('reports a missing file and parses JSON by extension', () => {
    expect(loadConfig(join(dir, 'nope.yaml'))).toEqual({
      ok: false,
      errors: [`${join(dir, 'nope.yaml')}: the config file does not exist (ENOENT)`],
    });
    const file = join(dir, 'lab.json');
    writeFileSync(file, JSON.stringify({ homeCountry: 'BE' }));
    const r = loadConfig(file);
    expect(r.ok && r.config.homeCountry).toBe('BE');
  });
});

describe('strict config (issue #20)', () => {
  const peer = '  - name: p\n    match: { cidrs: [10.0.0.0/8] }\n    trust: trusted\n    class: access\n';
  const errors = (text: string, file = 'test.yaml'): string[] => {
    const r = parseConfig(text, file);
    return r.ok ? [] : r.errors;
  };

  it('an unknown rule id is an error with the closest known id', () => {
    expect(errors('rules:\n  UA-ATACK-TOOL: false\n')).toEqual(['rules.UA-ATACK-TOOL: unknown rule; did you mean UA-ATTACK-TOOL?']);
    expect(errors('rules:\n  CLI_DNO: { severity: low }\n')).toEqual([
      'rules.CLI_DNO: not a rule id (upper-case words joined by "-", e.g. "CLI-DNO"); did you mean CLI-DNO?',
    ]);
    const far = errors('rules:\n  NOTHING-LIKE-IT: false\n');
    expect(far).toHaveLength(1);
    expect(far[0]).toMatch(/^rules\.NOTHING-LIKE-IT: unknown rule; known rules: CLI-CALLED-AS-CALLER, .*, VERSTAT-FORGED$/);
    // Every real id is accepted.
    expect(ok('rules:\n  SHAKEN-UNVERIFIABLE: false\n  CLI-NEIGHBOUR: { severity: low }\n').rules['SHAKEN-UNVERIFIABLE']?.enabled).toBe(false);
  });

  it('numbers YAML or JSON read as numbers are errors telling to quote them', () => {
    expect(errors(`peers:\n${peer}    allowedNumbers: [31201234567, "+3130"]\n`)).toEqual([
      'peers[0].allowedNumbers[0]: 31201234567 is read as a number; quote it ("31201234567") — a phone number needs quotes, with its "+"',
    ]);
    expect(errors('lists:\n  protected:\n    - { number: 31703456789, owner: law firm }\n')).toEqual([
      'lists.protected[0].number: 31703456789 is read as a number; quote it ("31703456789") — a phone number needs quotes, with its "+"',
    ]);
    expect(errors('{"lists": {"brands": [{"name": "B", "displayNames": ["B"], "numbers": [3120123]}]}}', 'c.json')).toEqual([
      'lists.brands[0].numbers[0]: 3120123 is read as a number; quote it ("3120123") — a phone number needs quotes, with its "+"',
    ]);
    // Written with + or a leading zero, YAML keeps the text (nothing lost): accepted as before.
    expect(ok(`peers:\n${peer}    allowedNumbers: [+3120555]\n`).peers[0]?.allowedNumbers).toEqual(['+3120555']);
  });

  it('a peer without class or trust is told the allowed values', () => {
    expect(errors('peers:\n  - name: p\n    match: { cidrs: [10.0.0.1] }\n')).toEqual([
      'peers[0].trust: required, one of trusted|untrusted',
      'peers[0].class: required, one of access|national|international|enterprise',
    ]);
  });
});
