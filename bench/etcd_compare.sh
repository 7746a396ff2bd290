#!/usr/bin/env bash
# Committed records per second: Umupaka (3 voters + 2 learners, every node taking crossings through
# its API) beside a 3-member etcd cluster (Debian's etcd-server) doing durable puts of the same
# size through its JSON gateway, on this machine, one after the other. Needs: apt-get install
# etcd-server. Usage: [PACE=P] [CONC=C] [ETCD_CONC=E] bash bench/etcd_compare.sh [SECONDS]
# PACE: the nodes' [storage] group_commit_pace (default: that of umupaka-sim local up).
# CONC: connections to each of the 5 nodes (default 32); ETCD_CONC: connections to etcd (default
# 160, the same in all). With 8 per node the nodes wait for their clients (bench/README.md).
# Both get 160 by default: each system at its fullest on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-15}
B=build/release
command -v etcd >/dev/null || { echo "needs etcd: apt-get install -y etcd-server" >&2; exit 2; }
# CPU accounting (clock ticks): of the given pids (utime + stime), and of the whole machine (busy).
proc_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# cpu_line NAME COUNT SERVER_TICKS BUSY_TICKS SECONDS: CPU per committed item, servers and whole machine.
cpu_line() {
  local hz; hz=$(getconf CLK_TCK)
  echo "$1 CPU: servers $(echo "scale=2; $3 / $hz" | bc) s, machine busy $(echo "scale=2; $4 / $hz" | bc) s of $(echo "scale=2; $5 * $(nproc)" | bc) s;" \
    "per committed item: servers $(echo "$3 * 1000000 / $hz / $2" | bc) us, machine $(echo "$4 * 1000000 / $hz / $2" | bc) us"
}
W=$(mktemp -d /tmp/umupaka-etcd-XXXX)
trap 'pkill -f "etcd --name bench-" || true; "$B/simulation/umupaka-sim" local down --dir "$W/net" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT

# --- Umupaka ---
"$B/simulation/umupaka-sim" local up --dir "$W/net" --base-port 9600 --link lan \
  --sites hq,kigali-airport,gatuna,rusumo,kagitumba --voters hq,kigali-airport,gatuna \
  ${PACE:+--group-commit-pace "$PACE"} >/dev/null
TOKEN=$(sed -n 's/.*"admin_token": "\(umk_[0-9a-f]*\)".*/\1/p' "$W/net/network.json")
NODE_PIDS=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$W/net/network.json")
sleep 2
size() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/v1/ledger/frontier" | sed -n 's/.*"size":\([0-9]*\).*/\1/p'; }
min_size() { local m=""; for p in 9600 9601 9602 9603 9604; do s=$(size $p); if [ -z "$m" ] || [ "$s" -lt "$m" ]; then m=$s; fi; done; echo "$m"; }
before=$(min_size)
# shellcheck disable=SC2086
node0=$(proc_ticks $NODE_PIDS); busy0=$(busy_ticks)
t0=$(date +%s.%N)
for p in 9600 9601 9602 9603 9604; do
  at=(); [ "$p" = 9600 ] && at=(--post gatuna --seed 2)  # HQ records crossings by naming the post
  "$B/node/umupaka-traffic" --api "http://127.0.0.1:$p" --token "$TOKEN" "${at[@]}" --rate 0 --concurrency "${CONC:-32}" \
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
# shellcheck disable=SC2086
node1=$(proc_ticks $NODE_PIDS); busy1=$(busy_ticks)
after=$(min_size)
echo "umupaka: $((after - before)) records committed at all 5 nodes in $(echo "$t1 - $t0" | bc) s = $(echo "($after - $before) / ($t1 - $t0)" | bc) records/s (accepted: $total)"
cpu_line umupaka $((after - before)) $((node1 - node0)) $((busy1 - busy0)) "$(echo "$t1 - $t0" | bc)"
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
ETCD_PIDS=$(pgrep -f "etcd --name bench-" | tr '\n' ' ')
# shellcheck disable=SC2086
etcd0=$(proc_ticks $ETCD_PIDS); busy0=$(busy_ticks); t0=$(date +%s.%N)
"$B/bench/kv_put_bench" --url http://127.0.0.1:23791 --seconds "$SECONDS_RUN" --concurrency "${ETCD_CONC:-160}" --value-bytes 450 \
  | tee "$W/etcd.out"
# shellcheck disable=SC2086
etcd1=$(proc_ticks $ETCD_PIDS); busy1=$(busy_ticks); t1=$(date +%s.%N)
puts=$(sed -n 's/^etcd: \([0-9]*\) durable puts.*/\1/p' "$W/etcd.out")
cpu_line etcd "$puts" $((etcd1 - etcd0)) $((busy1 - busy0)) "$(echo "$t1 - $t0" | bc)"
