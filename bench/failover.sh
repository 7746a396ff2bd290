#!/usr/bin/env bash
# Failover: time from killing the ledger's leader (SIGKILL) to the next commit seen at a learner,
# over N kills, with traffic flowing. 3 voters (hq, kigali-airport, dr-kigali) + 2 learners, LAN
# Raft timings (tick 50 ms, elections after 10-19 ticks). Needs python3 (to read JSON).
# Usage: bash bench/failover.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-20}
B=build/release
W=$(mktemp -d /tmp/umupaka-failover-XXXX)
trap '"$B/simulation/umupaka-sim" local down --dir "$W/net" >/dev/null 2>&1 || true; kill $TRAFFIC 2>/dev/null || true; rm -rf "$W"' EXIT
"$B/simulation/umupaka-sim" local up --dir "$W/net" --base-port 9700 --link lan \
  --sites hq,kigali-airport,dr-kigali,gatuna,rusumo --voters hq,kigali-airport,dr-kigali >/dev/null
TOKEN=$(python3 -c "import json;print(json.load(open('$W/net/network.json'))['admin_token'])")
"$B/node/umupaka-traffic" --api http://127.0.0.1:9703 --token "$TOKEN" --rate 100 --duration 100000 --quiet >/dev/null 2>&1 &
TRAFFIC=$!
sleep 3
now_ms() { date +%s%3N; }
size_at() { curl -s -m 1 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/v1/ledger/frontier" | sed -n 's/.*"size":\([0-9]*\).*/\1/p'; }
leader() {
  for p in 9700 9701 9702; do
    if curl -s -m 1 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$p/v1/status" | grep -q '"role":"leader"'; then
      case $p in 9700) echo hq;; 9701) echo kigali-airport;; 9702) echo dr-kigali;; esac; return
    fi
  done
}
pid_of() { python3 -c "import json;print([s['pid'] for s in json.load(open('$W/net/network.json'))['sites'] if s['id']=='$1'][0])"; }
times=()
for k in $(seq "$KILLS"); do
  l=""; for _ in $(seq 100); do l=$(leader); [ -n "$l" ] && break; sleep 0.1; done
  [ -z "$l" ] && { echo "no leader"; exit 1; }
  victim=$(pid_of "$l")  # before t0: python's start-up is not part of the failover
  t0=$(now_ms)
  kill -9 "$victim"
  # A new leader, then its first commit: the learner's ledger grows past what it held when the
  # new leader was seen (entries the old leader had committed are applied before that).
  while :; do n=$(leader); [ -n "$n" ] && [ "$n" != "$l" ] && break; sleep 0.01; done
  before=$(size_at 9703)
  while :; do s=$(size_at 9703); [ -n "$s" ] && [ "$s" -gt "$before" ] && break; sleep 0.01; done
  t1=$(now_ms)
  times+=($((t1 - t0)))
  echo "kill $k: leader $l, next commit after $((t1 - t0)) ms"
  "$B/simulation/umupaka-sim" local start --dir "$W/net" --site "$l" >/dev/null
  sleep 2
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
max=$(echo "$sorted" | tail -1)
echo "failover over $KILLS leader kills: median ${median} ms, max ${max} ms"
