#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the installed programs run a local network with
# no help from the build or source tree: the systemd unit names the installed node, umupaka-sim
# starts that node and finds its installed scenarios, traffic is recorded and reaches every node.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
prefix=$tmp/usr
net=$tmp/net
trap '"$prefix/bin/umupaka-sim" local down --dir "$net" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
fail() {
  echo "install_test: $* (after $SECONDS s)" >&2
  for log in "$net"/*.log; do
    [ -f "$log" ] && echo "--- $log" >&2 && tail -n 20 "$log" >&2
  done
  exit 1
}

cmake --install "$build" --prefix "$prefix" --strip >/dev/null

unit=$prefix/lib/systemd/system/umupaka-node@.service
[ -f "$unit" ] || fail "no unit at $unit"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$exec_start" = "$prefix/bin/umupaka-node run --data %S/umupaka/%i" ] ||
  fail "the unit runs '$exec_start', not the installed node"
grep -q '@' <(grep -v '^#' "$unit" | grep -v 'umupaka-node@') && fail "an unfilled @VARIABLE@ in $unit"
[ -f "$prefix/lib/sysusers.d/umupaka.conf" ] || fail "no sysusers.d/umupaka.conf"
[ -f "$prefix/share/doc/umupaka/operations.md" ] || fail "no docs"
for b in umupaka-node umupaka-admin umupaka-sim umupaka-traffic; do
  "$prefix/bin/$b" --help >/dev/null || fail "$b --help failed"
done

# The installed programs only, from another directory: a scenario by name, then a network.
cd "$tmp"
# A scenario by name that only the installed directory holds (the source tree has new-sites too).
scenarios=$prefix/share/umupaka/scenarios
[ -f "$scenarios/new-sites.toml" ] || fail "no scenarios in $scenarios"
cp "$scenarios/new-sites.toml" "$scenarios/installed-only.toml"
"$prefix/bin/umupaka-sim" run installed-only --seed 1 --duration 10m --quiet >/dev/null ||
  fail "umupaka-sim did not find or run the installed scenario installed-only"
"$prefix/bin/umupaka-sim" local up --dir "$net" --sites hq,gatuna --voters hq --base-port 0 \
  >"$tmp/up.log" 2>&1 || fail "local up failed: $(cat "$tmp/up.log")"
grep -q "\"restart\": \"$prefix/bin/umupaka-node run " "$net/network.json" ||
  fail "umupaka-sim did not start the installed node: $(cat "$net/network.json")"
token=$(sed -n 's/.*"admin_token": "\(umk_[0-9a-f]*\)".*/\1/p' "$net/network.json")
gatuna=$(sed -n 's/.*"api": "\(http:[^"]*\)".*/\1/p' "$net/network.json" | sed -n 2p)
summary=$("$prefix/bin/umupaka-traffic" --api "$gatuna" --token "$token" --count 20 --rate 0 \
  --json 2>&1) || fail "umupaka-traffic failed: $summary"
summary=$(echo "$summary" | tail -n 1)
echo "$summary" | grep -q '"recorded":20,' || fail "gatuna did not record 20 crossings: $summary"
# HQ's row, Gatuna's column: the crossings reached the other node.
for _ in $(seq 1 300); do
  held=$("$prefix/bin/umupaka-admin" feeds --network "$net/network.json" |
    awk '$1 == "hq" { print $3 }') || fail "umupaka-admin feeds failed"
  [ "$held" = 20 ] && break
  sleep 0.2
done
[ "$held" = 20 ] || fail "HQ holds ${held:-no} of Gatuna's 20 crossings"
# Both nodes' committed ledgers hold the crossings, with one size and one root, and one leads.
for _ in $(seq 1 300); do
  status=$("$prefix/bin/umupaka-admin" status --network "$net/network.json") ||
    fail "umupaka-admin status failed: $status"
  ledgers=$(echo "$status" | sed -n 's/.*, ledger \([0-9]*\) root \([0-9a-f]*\),.*/\1 \2/p' | sort -u)
  if [ "$(echo "$ledgers" | wc -l)" = 1 ] && [ "${ledgers%% *}" -ge 20 ] &&
    echo "$status" | grep -q ", raft leader term "; then
    exit 0
  fi
  sleep 0.2
done
fail "the two nodes' ledgers do not agree on 20 crossings or none leads: $status"
