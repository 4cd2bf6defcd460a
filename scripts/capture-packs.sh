#!/usr/bin/env bash
# Plays the rule-pack calls (captures/packs/calls.mjs) with SIPp on loopback, each from its peer's own
# 127.0.0.x address, against a SIPp UAS on 127.0.0.1:5090 (UDP and TCP), and records them with tshark into
# captures/packs/packs.pcapng. Needs root, sipp (Debian sip-tester), tshark and node.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/captures/packs
out=${1:-$dir/packs.pcapng}
command -v sipp >/dev/null || { echo "sipp missing: apt-get install -y sip-tester" >&2; exit 2; }
command -v tshark >/dev/null || { echo "tshark missing: apt-get install -y tshark" >&2; exit 2; }
node "$dir/calls.mjs" >/dev/null
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

timeout 300 tshark -q -i lo -f 'port 5090' -w "$work/packs.pcapng" 2>"$work/tshark.log" &
tpid=$!
for _ in $(seq 50); do grep -q 'Capturing on' "$work/tshark.log" 2>/dev/null && break; sleep 0.1; done

for t in u1 t1; do
  # sipp -bg forks the background instance and exits 99
  timeout 300 sipp -sn uas -i 127.0.0.1 -p 5090 -t $t -nostdin -bg >"$work/uas-$t.out" 2>&1 || true
  pids+=("$(grep -o 'PID=\[[0-9]*\]' "$work/uas-$t.out" | tr -dc 0-9)")
done
sleep 0.3

port=5200
while read -r id ip transport; do
  t=u1; [ "$transport" = tcp ] && t=t1
  port=$((port + 1))
  timeout 20 sipp -sf "$dir/xml/$id.xml" 127.0.0.1:5090 -i "$ip" -p $port -t $t -m 1 -nostdin -cid_str "$id-%u@spoofwatch.test" \
    -trace_err -error_file "$work/$id.err" >/dev/null 2>&1 || { echo "$id: sipp failed" >&2; cat "$work/$id.err" >&2 || true; }
done <"$dir/xml/plan.txt"

sleep 0.5
kill -INT "$tpid"; wait "$tpid" || true
cp "$work/packs.pcapng" "$out"; chmod 644 "$out"
echo "$out: $(tshark -r "$out" -Y 'sip.Method == "INVITE"' 2>/dev/null | wc -l) INVITEs"
