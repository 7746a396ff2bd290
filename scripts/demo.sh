#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a border-post node and drives it with
# traffic shaped like the real post (docs/rwanda-posts.md), printing every crossing it records and
# every check that fires. Environment: DEMO_DIR (default ./demo-data), POST (gatuna), RATE
# (travellers/s, default 4), DURATION (seconds, default 60), WATCHLIST (entries planted, 40).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh

BIN=build/release/node
DEMO_DIR=${DEMO_DIR:-demo-data}
POST=${POST:-gatuna}
RATE=${RATE:-4}
DURATION=${DURATION:-60}
WATCHLIST=${WATCHLIST:-40}
PORT=${PORT:-7400}

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
"$BIN/umupaka-node" init --data "$DEMO_DIR/$POST" --site "$POST" --kind border-post \
  --api "127.0.0.1:$PORT"
OFFICER=$("$BIN/umupaka-node" token create --data "$DEMO_DIR/$POST" --role officer --subject officer-demo)
ADMIN=$("$BIN/umupaka-node" token create --data "$DEMO_DIR/$POST" --role hq-admin --subject hq-demo)

"$BIN/umupaka-node" run --data "$DEMO_DIR/$POST" >"$DEMO_DIR/$POST.log" 2>&1 &
NODE_PID=$!
trap 'kill -TERM $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done

"$BIN/umupaka-traffic" --api "http://127.0.0.1:$PORT" --token "$OFFICER" --admin-token "$ADMIN" \
  --watchlist "$WATCHLIST" --rate "$RATE" --duration "$DURATION"

echo
echo "node status:"
curl -s -H "Authorization: Bearer $OFFICER" "http://127.0.0.1:$PORT/v1/status" | head -c 2000
echo
echo "the node's data is in $DEMO_DIR/$POST; its log in $DEMO_DIR/$POST.log"
