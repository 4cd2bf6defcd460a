#!/usr/bin/env bash
# Makes the real SIPp captures in test/captures/ (decoder test captures): SIPp (Debian sip-tester) plays calls on loopback, tshark records them.
#   test/captures/sipp-udp.pcapng   10 calls over UDP, 127.0.0.2:5070 -> 127.0.0.1:5071
#   test/captures/sipp-tcp.pcapng   10 calls over TCP (one connection), same addresses
# Needs root (capture on lo), sipp and tshark. Usage: scripts/capture-sipp.sh [outdir]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/test/captures}
scen=$here/test/captures/sipp/uac-pai.xml
command -v sipp >/dev/null || { echo "sipp missing: apt-get install -y sip-tester" >&2; exit 2; }
command -v tshark >/dev/null || { echo "tshark missing: apt-get install -y tshark" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

capture() { # name transport-flag sipp-transport
  local name=$1 tflag=$2
  local uasport=5071 uacport=5070
  timeout 60 tshark -q -i lo -f "port $uasport or port $uacport" -w "$work/$name.pcapng" 2>"$work/tshark.log" &
  local tpid=$!
  for _ in $(seq 50); do grep -q 'Capturing on' "$work/tshark.log" 2>/dev/null && break; sleep 0.1; done
  # sipp -bg exits 99 after forking the background instance
  timeout 30 sipp -sn uas -i 127.0.0.1 -p $uasport -t "$tflag" -nostdin -bg -trace_err -error_file "$work/uas.err" >"$work/uas.out" || true
  local uaspid; uaspid=$(grep -o 'PID=\[[0-9]*\]' "$work/uas.out" | tr -dc 0-9)
  sleep 0.3
  timeout 30 sipp -sf "$scen" 127.0.0.1:$uasport -i 127.0.0.2 -p $uacport -t "$tflag" -m 10 -r 20 -nostdin \
    -trace_err -error_file "$work/uac.err" >/dev/null 2>&1 || { echo "sipp uac failed" >&2; cat "$work/uac.err" >&2 || true; }
  sleep 0.5
  kill "$uaspid" 2>/dev/null || true
  kill -INT "$tpid"; wait "$tpid" || true
  cp "$work/$name.pcapng" "$out/$name.pcapng"
  echo "$out/$name.pcapng: $(tshark -r "$out/$name.pcapng" -Y sip 2>/dev/null | wc -l) SIP frames"
}

capture sipp-udp u1
capture sipp-tcp t1
