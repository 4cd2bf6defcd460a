import { describe, expect, it } from 'vitest';
import { parseConfig, type PeerConfig } from '../../src/config/index.js';
import { mayPresent, PeerTable } from '../../src/identity/peers.js';

function peersFrom(yaml: string): readonly PeerConfig[] {
  const r = parseConfig(yaml, 'peers.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.peers;
}

const table = new PeerTable(
  peersFrom(`
peers:
  - { name: carrier, match: { cidrs: [10.0.0.0/8] }, trust: trusted, class: national, any: true }
  - { name: pbx, match: { cidrs: [10.1.2.0/24], transport: [udp, tcp] }, trust: trusted, class: enterprise,
      allowedNumbers: ["+31205551000-+31205551999"], presentationNumbers: ["+31205550000"] }
  - { name: pbx-tls, match: { cidrs: [10.1.2.0/24], transport: tls, port: 5061 }, trust: trusted, class: enterprise }
  - { name: host, match: { cidrs: [10.1.2.3] }, trust: untrusted, class: access }
  - { name: v6, match: { cidrs: ["2001:db8::/32"] }, trust: trusted, class: international, country: GB }
  - { name: v6-office, match: { cidrs: ["2001:db8:1::/48"] }, trust: trusted, class: enterprise }
  - { name: hep-a, match: { cidrs: [192.0.2.1], hepCaptureId: 2001 }, trust: trusted, class: access }
  - { name: hep-b, match: { cidrs: [192.0.2.1], hepCaptureId: 2002 }, trust: untrusted, class: access }
`),
);

const name = (q: Parameters<PeerTable['lookup']>[0]): string => {
  const r = table.lookup(q);
  return r.kind === 'unknown' ? `unknown: ${r.reason}` : r.kind === 'peer' ? r.peer.name : `mismatch ${r.peer.name}: ${r.reason}`;
};

describe('PeerTable.lookup', () => {
  it('takes the longest matching prefix', () => {
    expect(name({ ip: '10.9.9.9', port: 5060, transport: 'udp' })).toBe('carrier');
    expect(name({ ip: '10.1.2.4', port: 5060, transport: 'udp' })).toBe('pbx');
    expect(name({ ip: '10.1.2.3', port: 5060, transport: 'udp' })).toBe('host');
    expect(name({ ip: '11.0.0.1', port: 5060, transport: 'udp' })).toBe('unknown: no peer configured for 11.0.0.1');
  });

  it('picks among peers on the same prefix by their constraints', () => {
    expect(name({ ip: '10.1.2.9', port: 5061, transport: 'tls' })).toBe('pbx-tls');
    expect(name({ ip: '10.1.2.9', port: 40000, transport: 'tcp' })).toBe('pbx');
  });

  it('reports the right address with the wrong transport or port as a mismatch, not as a broader peer', () => {
    expect(table.lookup({ ip: '10.1.2.9', port: 5060, transport: 'ws' })).toMatchObject({
      kind: 'mismatch',
      cidr: '10.1.2.0/24',
      mismatch: 'port',
      reason: 'source port 5060, peer "pbx-tls" uses 5061',
    });
    expect(name({ ip: '10.1.2.9', port: 5061, transport: 'ws' })).toBe('mismatch pbx-tls: transport ws, peer "pbx-tls" uses tls');
    expect(table.peerFor({ ip: '10.1.2.9', port: 5061, transport: 'ws' })).toBeUndefined();
  });

  it('matches IPv6 by longest prefix', () => {
    expect(name({ ip: '2001:db8:1::5', transport: 'udp' })).toBe('v6-office');
    expect(name({ ip: '2001:db8:2::5', transport: 'udp' })).toBe('v6');
    expect(name({ ip: '2001:db9::1', transport: 'udp' })).toBe('unknown: no peer configured for 2001:db9::1');
    expect(table.peerFor({ ip: '2001:0db8:0002:0000:0000:0000:0000:0005' })?.country).toBe('GB');
  });

  it('matches IPv4-mapped IPv6 sources against IPv4 peers', () => {
    expect(name({ ip: '::ffff:10.1.2.3', port: 5060, transport: 'udp' })).toBe('host');
    expect(name({ ip: '::ffff:10.200.0.1', transport: 'tcp' })).toBe('carrier');
  });

  it('uses the HEP capture id when the message came over HEP, and ignores it otherwise', () => {
    expect(name({ ip: '192.0.2.1', transport: 'udp', hepCaptureId: 2002 })).toBe('hep-b');
    expect(name({ ip: '192.0.2.1', transport: 'udp', hepCaptureId: 2001 })).toBe('hep-a');
    expect(name({ ip: '192.0.2.1', transport: 'udp', hepCaptureId: 9 })).toBe(
      'mismatch hep-a: HEP capture id 9, peer "hep-a" is captured by 2001',
    );
    expect(name({ ip: '192.0.2.1', transport: 'udp' })).toBe('hep-a');
  });

  it('says so for text that is not an address', () => {
    expect(table.lookup({ ip: 'pbx.example.com' })).toEqual({ kind: 'unknown', reason: 'not an IP address ("pbx.example.com")' });
  });

  it('gives the same answer from its address cache, also past its bound', () => {
    const small = new PeerTable(peersFrom('peers: [{ name: a, match: { cidrs: [10.0.0.0/8] }, trust: trusted, class: access }]'), {
      cacheSize: 2,
    });
    for (let round = 0; round < 3; round++) {
      for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '11.0.0.1']) {
        expect(small.peerFor({ ip })?.name).toBe(ip.startsWith('10.') ? 'a' : undefined);
      }
    }
  });
});

describe('Peer numbers', () => {
  it('knows which numbers a peer may present', () => {
    const pbx = table.byPeerName('pbx')!;
    expect(mayPresent(pbx, '+31205551234')).toBe(true);
    expect(mayPresent(pbx, '+31205550000')).toBe(true);
    expect(mayPresent(pbx, '+31205552000')).toBe(false);
    expect(pbx.allowed.has('+31205550000')).toBe(false);
    expect(mayPresent(table.byPeerName('carrier')!, '+31205552000')).toBe(true);
    expect(table.byPeerName('nope')).toBeUndefined();
    expect(table.peers.map((p) => p.name)).toHaveLength(8);
  });
});
