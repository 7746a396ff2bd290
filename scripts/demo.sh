#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a local network of real nodes (HQ, five
# posts with the airport, an embassy; umupaka-sim local up) and drives four posts with traffic
# shaped like the real ones (docs/rwanda-posts.md). HQ plants a watchlist that reaches every post
# by gossip; every crossing recorded and every check that fires is printed, and every few seconds
# a table shows that each node holds the records of every other.
# Environment: DEMO_DIR (default ./demo-data), RATE (travellers/s per post, default 3), DURATION
# (seconds, default 60), WATCHLIST (entries per post, default 15), BASE_PORT (default 7400).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh

B=build/release
DEMO_DIR=${DEMO_DIR:-demo-data}
RATE=${RATE:-3}
DURATION=${DURATION:-60}
WATCHLIST=${WATCHLIST:-15}
BASE_PORT=${BASE_PORT:-7400}
NET="$DEMO_DIR/network"

[ -f "$NET/network.json" ] && "$B/simulation/umupaka-sim" local down --dir "$NET" >/dev/null || true
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
"$B/simulation/umupaka-sim" local up --dir "$NET" --base-port "$BASE_PORT"
trap '"$B/simulation/umupaka-sim" local down --dir "$NET" >/dev/null 2>&1 || true' EXIT

TOKEN=$(sed -n 's/.*"admin_token": "\(umk_[0-9a-f]*\)".*/\1/p' "$NET/network.json")
# The default sites, in the order umupaka-sim local up gives them ports (BASE_PORT + index).
SITES=(hq gatuna rubavu-corniche rusumo kagitumba kigali-airport embassy-nairobi)
api_of() {
  local i
  for i in "${!SITES[@]}"; do
    [ "${SITES[$i]}" = "$1" ] && echo "http://127.0.0.1:$((BASE_PORT + i))" && return
  done
}
HQ=$(api_of hq)
echo
"$B/admin/umupaka-admin" status --network "$NET/network.json"
echo

pids=()
seed=1
for post in gatuna rubavu-corniche rusumo kigali-airport; do
  seed=$((seed + 1))
  "$B/node/umupaka-traffic" --api "$(api_of "$post")" --token "$TOKEN" --admin-token "$TOKEN" \
    --watchlist "$WATCHLIST" --watchlist-at "$HQ" --seed "$seed" --rate "$RATE" \
    --duration "$DURATION" 2>&1 | sed -u "s/^/[$post] /" &
  pids+=($!)
done
end=$((SECONDS + DURATION))
while [ $SECONDS -lt $end ]; do
  sleep 10
  echo
  echo "--- records held at each node, per origin (every node sees every post) ---"
  "$B/admin/umupaka-admin" feeds --network "$NET/network.json"
  echo
done
wait "${pids[@]}" || true
sleep 1
echo
echo "--- final: records held at each node, per origin ---"
"$B/admin/umupaka-admin" feeds --network "$NET/network.json"
echo
"$B/admin/umupaka-admin" status --network "$NET/network.json"
echo
echo "the network is in $NET (network.json, one data directory and log per site); stopping it."
