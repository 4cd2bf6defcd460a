/**
 * The embedded default config: a small documented lab on loopback addresses, so that `npm start`
 * (the daemon without --config) works on a fresh machine and SIPp scenarios started with
 * `-i 127.0.0.X` play the different peers (DESIGN.md §5 "Defaults", §9).
 */
export const DEFAULT_CONFIG_YAML = `# spoofwatch — default configuration: a lab network on loopback addresses.
#
# Play a peer with SIPp by choosing its source address, e.g.
#   sipp -sn uac 127.0.0.1:5060 -i 127.0.0.2 -p 5070 -m 1     # a call from pbx-acme
# Numbers are E.164 prefixes ("+3120555") or inclusive ranges of equal length
# ("+31205551000-+31205551999"). Quote them: YAML would read +3120555 as a number.
# Relative paths are relative to the working directory here; in a config file given with
# --config they are relative to that file's folder.

# Country used for national numbers ("020 …") when a peer does not set its own.
homeCountry: NL

peers:
  # This machine itself: softphones and SIPp runs without -i. Trusted, presents its lab block.
  - name: local
    description: the lab host (127.0.0.1)
    match:
      cidrs: [127.0.0.1]
    trust: trusted
    class: access
    allowedNumbers: ["+31205550100-+31205550199"]

  # An enterprise PBX (a law firm, so some of its numbers are protected below). It owns a DDI block
  # and may also present the firm's general number. Only UDP and TCP: TLS from it is suspicious.
  - name: pbx-acme
    description: ACME Advocaten office PBX, Amsterdam
    match:
      cidrs: [127.0.0.2]
      transport: [udp, tcp]
    trust: trusted
    class: enterprise
    allowedNumbers: ["+31205551000-+31205551999"]
    presentationNumbers: ["+31205550000"]

  # An international carrier handing over calls from abroad: transit, may present any number,
  # but a Dutch CLI arriving here is what REG-INTL-NATIONAL-CLI looks for.
  - name: carrier-intl
    description: international transit carrier
    match:
      cidrs: [127.0.0.3]
    trust: trusted
    class: international
    country: GB
    any: true

  # A SIP trunk customer we do not trust: its From and P-Asserted-Identity are caller-controlled.
  - name: sip-trunk-untrusted
    description: hosted SIP trunk customer
    match:
      cidrs: [127.0.0.4]
    trust: untrusted
    class: access
    allowedNumbers: ["+31205552000-+31205552099"]

lists:
  # Numbers only their owner may present (professional privilege, police, bank hotlines).
  protected:
    - number: "+31205551000-+31205551099"
      owner: ACME Advocaten (lawyers' direct lines)
      ownerPeers: [pbx-acme]
    - number: "+319008844"
      owner: Politie (0900-8844, police non-emergency line)
      ownerPeers: []
  # Inbound-only numbers: any call presenting them is spoofed.
  doNotOriginate:
    - number: "+31205550999"
      owner: Lab Bank fraud helpdesk (inbound only)
  # Display names that impersonate a brand while the number is not one of the brand's.
  brands:
    - name: Lab Bank
      displayNames: [Lab Bank, LabBank Fraude]
      numbers: ["+31205550900-+31205550999"]

stirShaken:
  # PEM files of trusted STI certificate authorities; none in the lab by default.
  trustAnchors: []
  # certCacheDir: certs/        # certificates named by their x5u URL
  freshnessSeconds: 60

# Per-rule overrides: RULE-ID: false disables a rule; { severity: high, <param>: <number> } tunes it.
rules: {}
#  CLI-NEIGHBOUR: { severity: low }
#  UA-ATTACK-TOOL: false

sources:
  sip: { host: 127.0.0.1, port: 5060, udp: true, tcp: true }   # --sip-port
  hep: { host: 127.0.0.1, port: 9060, udp: true, tcp: true }   # --hep-port
  watch: { dir: captures/ }                                    # --watch DIR
  # interface: { name: eth0, filter: "port 5060" }             # needs tcpdump and privileges

server:
  host: 127.0.0.1        # without tokens the server stays on loopback
  port: 8080             # --http-port
  # tokens: ["change-me"]

store:
  path: ./spoofwatch.db  # --store FILE
  retentionDays: 30
  maxAlerts: 1000000
`;
