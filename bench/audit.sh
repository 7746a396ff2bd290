#!/usr/bin/env bash
# `umupaka-admin audit` on a ledger of a given size: wall time, records verified per second and the
# auditor's peak memory (GNU time, package `time`). A local network of 3 voters is filled with
# crossings by `umupaka-traffic` (as fast as it takes them) until its ledger holds RECORDS, then
# HQ's ledger is audited.
#
#   bash bench/audit.sh [RECORDS]        (default 50000)
#   ADMIN=/path/to/umupaka-admin ...     (A/B: audit the same ledger with another build as well)
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${1:-50000}
B=build/release
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
W=$(mktemp -d /tmp/umupaka-audit-XXXX)
trap '"$B/simulation/umupaka-sim" local down --dir "$W/net" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT

"$B/simulation/umupaka-sim" local up --dir "$W/net" --base-port 9650 --link lan \
  --sites hq,gatuna,rusumo --voters hq,gatuna,rusumo >/dev/null
TOKEN=$(sed -n 's/.*"admin_token": "\(umk_[0-9a-f]*\)".*/\1/p' "$W/net/network.json")
size() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:9650/v1/ledger/frontier" | sed -n 's/.*"size":\([0-9]*\).*/\1/p'; }
sleep 2
while [ "$(size)" -lt "$RECORDS" ]; do
  for p in 9650 9651 9652; do
    at=(); [ "$p" = 9650 ] && at=(--post gatuna --seed 2)  # HQ records crossings by naming the post
    "$B/node/umupaka-traffic" --api "http://127.0.0.1:$p" --token "$TOKEN" "${at[@]}" --rate 0 --concurrency 16 \
      --duration 10 --quiet --json >/dev/null 2>&1 &
  done
  wait
  echo "ledger size $(size)" >&2
done
sleep 3  # the last entries applied and a head signed over them
n=$(size)
/usr/bin/time -f "%e %M" -o "$W/time" "$B/admin/umupaka-admin" audit --node http://127.0.0.1:9650 \
  --token "$TOKEN" >"$W/audit.out"
read -r secs kib <"$W/time"
tail -2 "$W/audit.out"
echo "audit: $n records in $secs s = $(echo "$n / $secs" | bc) records/s; peak memory $((kib / 1024)) MiB"
if [ -n "${ADMIN:-}" ]; then
  /usr/bin/time -f "%e %M" -o "$W/time" "$ADMIN" audit --node http://127.0.0.1:9650 \
    --token "$TOKEN" >"$W/audit.out" || true
  read -r secs kib <"$W/time"
  tail -1 "$W/audit.out"
  echo "audit ($ADMIN): $n records in $secs s; peak memory $((kib / 1024)) MiB"
fi
