/**
 * The embedded default config: a small documented lab on loopback addresses, so that `npm start`
 * (the daemon without --config) works on a fresh machine (watching only the scenario lab `captures/scenario/`, not the decoder's test
 * captures beside it) and SIPp scenarios started with
 * `-i 127.0.0.X` play the different peers (DESIGN.md §5 "Defaults", §9).
 */
export const DEFAULT_CONFIG_YAML = `# spoofwatch — default configuration: a lab network on loopback addresses.
#
# Play a peer with SIPp by choosing its source address, e.g.
#   sipp -sn uac 127.0.0.1:5060 -i 127.0.0.10 -p 5070 -m 1    # a call from pbx-acme
# This is the lab of the scenario capture (captures/scenario/spoofwatch.yaml holds the same peers
# and lists; a test keeps them equal), so \`npm start\` explains the calls of captures/scenario/ at once.
# Your own network: \`spoofwatch config print-default > my.yaml\`, replace the peers and lists with yours,
# point sources at your traffic, check with \`spoofwatch config check my.yaml\`, then
# \`spoofwatch daemon --config my.yaml\`.
# Numbers are E.164 prefixes ("+3120555") or inclusive ranges of equal length
# ("+31205551000-+31205551999"). Quote them: YAML would read +3120555 as a number.
# Relative paths are relative to the working directory here; in a config file given with
# --config they are relative to that file's folder.

# Country used for national numbers ("020 …") when a peer does not set its own.
homeCountry: NL

peers:
  - name: local
    description: the lab host itself (SIPp UAS answering the calls)
    match: { cidrs: [127.0.0.1] }
    trust: trusted
    class: access
    allowedNumbers: ["+31301234500-+31301234599"]

  - name: pbx-acme
    description: ACME BV office PBX; owns a DDI block and presents its 088 general number
    match: { cidrs: [127.0.0.10], transport: [udp] }
    trust: trusted
    class: enterprise
    allowedNumbers: ["+312055501"]
    presentationNumbers: ["+31881234567"]

  - name: carrier-nl
    description: national transit carrier (may present any number)
    match: { cidrs: [127.0.0.11] }
    trust: trusted
    class: national
    any: true

  - name: carrier-intl
    description: international interconnect (transit)
    match: { cidrs: [127.0.0.12] }
    trust: trusted
    class: international
    country: DE
    any: true

  - name: access-untrusted
    description: a residential SIP subscriber; its headers are caller-controlled
    match: { cidrs: [127.0.0.13] }
    trust: untrusted
    class: access
    allowedNumbers: ["+31301112233"]

  - name: lawfirm-pbx
    description: De Vries Advocaten PBX; owner of a protected number
    match: { cidrs: [127.0.0.14] }
    trust: trusted
    class: enterprise
    allowedNumbers: ["+31703456700-+31703456799"]

lists:
  protected:
    - number: "+31703456789"
      owner: De Vries Advocaten (lawyer, legal privilege)
      ownerPeers: [lawfirm-pbx]
  doNotOriginate:
    - number: "+31201234000"
      owner: Examplebank fraud helpdesk (inbound only)
  brands:
    - name: Examplebank
      displayNames: [Example Bank, Examplebank]
      numbers: ["+31201234000-+31201234099"]

stirShaken:
  # PEM files of trusted STI certificate authorities; none in the lab by default.
  trustAnchors: []
  # certCacheDir: certs/        # certificates named by their x5u URL
  freshnessSeconds: 60

# Per-rule overrides: RULE-ID: false disables a rule; { severity: high, <param>: <number> } tunes it.
rules: {}
#  CLI-NEIGHBOUR: { severity: low }
#  UA-ATTACK-TOOL: false

# Suppression and thresholds, as in Suricata (docs/incidents.md): matching alerts are stored, marked, and not
# streamed (WebSocket, console) nor grouped into incidents.
# suppress:
#   - { rule: SRC-UNKNOWN-PEER, src: 192.0.2.0/24, expires: 2026-12-31 }   # also peer:, number: "+3120555" or "+31*0000"
# threshold:
#   - { rule: SRC-UNKNOWN-PEER, track: by_src, count: 50, seconds: 60 }    # track: by_src | by_peer | by_number

sources:
  sip: { host: 127.0.0.1, port: 5060, udp: true, tcp: true }   # --sip-port
  hep: { host: 127.0.0.1, port: 9060, udp: true, tcp: true }   # --hep-port
  # Off loopback a listener needs allowFrom (CIDRs that may send; others are dropped and counted):
  #   sip: { host: 0.0.0.0, allowFrom: [192.0.2.0/24] }
  # HEP agents can also be held to a key (HEP chunk 14) and capture ids (chunk 12):
  #   hep: { host: 0.0.0.0, allowFrom: [192.0.2.0/24], authKey: "change-me", captureIds: [2001] }
  watch: { dir: captures/scenario/ }                           # --watch DIR (the scenario lab only)
  # interface: { name: eth0, filter: "port 5060" }             # needs tcpdump and privileges

server:
  host: 127.0.0.1        # without tokens the server stays on loopback
  port: 8080             # --http-port
  # tokens: ["change-me"]
  # hostnames: [monitor.example]                # names accepted in Host besides IPs and localhost
  # allowedOrigins: [https://monitor.example]   # other pages that may open /alerts

store:
  path: ./spoofwatch.db  # --store FILE
  retentionDays: 30
  maxAlerts: 1000000
`;
