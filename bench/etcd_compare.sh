#!/usr/bin/env bash
# Committed records per second: Umupaka (3 voters + 2 learners, every node taking crossings through
# its API) beside a 3-member etcd cluster (Debian's etcd-server) doing durable puts of the same
# size through its JSON gateway, on this machine, one after the other. Needs: apt-get install
# etcd-server. Usage: bash bench/etcd_compare.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-15}
B=build/release
W=$(mktemp -d /tmp/umupaka-etcd-XXXX)
trap 'pkill -f "etcd --name bench-" || true; "$B/simulation/umupaka-sim" local down --dir "$W/net" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT

# --- Umupaka ---
"$B/simulation/umupaka-sim" local up --dir "$W/net" --base-port 9600 --link lan \
  --sites hq,kigali-airport,gatuna,rusumo,kagitumba --voters hq,kigali-airport,gatuna >/dev/null
TOKEN=$(sed -n 's/.*"admin_token": "\(umk_[0-9a-f]*\)".*/\1/p' "$W/net/network.json")
sleep 2
size() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/v1/ledger/frontier" | sed -n 's/.*"size":\([0-9]*\).*/\1/p'; }
min_size() { local m=""; for p in 9600 9601 9602 9603 9604; do s=$(size $p); if [ -z "$m" ] || [ "$s" -lt "$m" ]; then m=$s; fi; done; echo "$m"; }
before=$(min_size)
t0=$(date +%s.%N)
for p in 9600 9601 9602 9603 9604; do
  "$B/node/umupaka-traffic" --api "http://127.0.0.1:$p" --token "$TOKEN" --rate 0 --concurrency 8 \
    --duration "$SECONDS_RUN" --quiet --json > "$W/traffic-$p.json" 2>/dev/null &
done
wait
# Committed at every node: wait until the slowest node's ledger has caught up with the writes.
total=0
for p in 9600 9601 9602 9603 9604; do
  r=$(sed -n 's/.*"recorded":\([0-9]*\).*/\1/p' "$W/traffic-$p.json"); total=$((total + r))
done
for _ in $(seq 300); do [ "$(min_size)" -ge $((before + total)) ] && break; sleep 0.1; done
t1=$(date +%s.%N)
after=$(min_size)
echo "umupaka: $((after - before)) records committed at all 5 nodes in $(echo "$t1 - $t0" | bc) s = $(echo "($after - $before) / ($t1 - $t0)" | bc) records/s (accepted: $total)"
"$B/simulation/umupaka-sim" local down --dir "$W/net" >/dev/null

# --- etcd, 3 members ---
cluster="bench-1=http://127.0.0.1:23801,bench-2=http://127.0.0.1:23802,bench-3=http://127.0.0.1:23803"
for i in 1 2 3; do
  etcd --name bench-$i --data-dir "$W/etcd-$i" \
    --listen-client-urls http://127.0.0.1:2379$i --advertise-client-urls http://127.0.0.1:2379$i \
    --listen-peer-urls http://127.0.0.1:2380$i --initial-advertise-peer-urls http://127.0.0.1:2380$i \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error >"$W/etcd-$i.log" 2>&1 &
done
sleep 4
"$B/bench/kv_put_bench" --url http://127.0.0.1:23791 --seconds "$SECONDS_RUN" --concurrency 40 --value-bytes 450
