#!/usr/bin/env bash
# The command lines refuse what would do nothing, wrap, or crash, with exit 2 (docs/operations.md)
# and a message; a failed write leaves no file behind. Usage: cli_test.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
node=$build/node/umupaka-node
admin=$build/admin/umupaka-admin
sim=$build/simulation/umupaka-sim
traffic=$build/node/umupaka-traffic
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect CODE DESCRIPTION COMMAND...: the command exits CODE.
expect() {
  local code=$1 what=$2
  shift 2
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL: $what: exit $rc, expected $code: $*" >&2
    sed 's/^/  /' "$tmp/out" >&2
    failures=$((failures + 1))
  fi
}

# says TEXT: the last command's output names what was wrong (exit 2 alone could be another fault).
says() {
  grep -qF -- "$1" "$tmp/out" || {
    echo "FAIL: the output does not say '$1':" >&2
    sed 's/^/  /' "$tmp/out" >&2
    failures=$((failures + 1))
  }
}

expect 2 "a swarm of no seeds" "$sim" swarm --seeds 0
says "--seeds: Value 0 not in range"
expect 2 "seeds past 2^64-1" "$sim" swarm --first-seed 18446744073709551615 --seeds 3
says "runs past the last seed"
expect 2 "a negative seed" "$sim" run new-sites --seed=-1
says "--seed: must not be negative"
expect 2 "no traffic" "$sim" run new-sites --seed 1 --traffic-scale 0
says "--traffic-scale: must be a number from"
expect 2 "traffic NaN" "$sim" run new-sites --seed 1 --traffic-scale nan
says "--traffic-scale: must be a number from"
printf 'duration = "1h"\n[links.wan]\nlatency_ms = 20\nswim = "wan"\n[[sites]]\nid = "hq"\nkind = "hq"\nrole = "voter"\nlink = "wan"\n[generate]\nposts = 64\npost_link = "wan"\n' \
  >"$tmp/65-sites.toml"
expect 2 "65 founding sites" "$sim" run "$tmp/65-sites.toml" --seed 1 --quiet
says "at most 64 founding sites"
expect 2 "a population of none" "$traffic" --token t --population 0
says "--population: Value 0 not in range"
expect 2 "a rate of NaN" "$traffic" --token t --rate nan
says "--rate: must be a number from"
expect 2 "a negative duration" "$traffic" --token t --duration -1
says "--duration"
expect 2 "a negative cut-off" "$admin" revoke --root-key k --node n --token t --site s --cutoff -1
says "--cutoff: must not be negative"

# local up with bad sites, voters, link or ports: exit 2 naming it, before anything is made.
for args in "--sites hq:moon|kind moon" "--sites hq,hq|given twice" "--voters nobody|voter nobody" \
  "--link moon|link must be" "--base-port 65500|leaves no room"; do
  expect 2 "local up ${args%%|*}" "$sim" local up --dir "$tmp/net" ${args%%|*}
  says "${args#*|}"
  [ -e "$tmp/net" ] && echo "FAIL: local up ${args%%|*} made $tmp/net" >&2 &&
    failures=$((failures + 1))
done

# feeds and status with a file that is not a network.json: named, exit 2.
echo '{"sites": [{"id": 1}]}' >"$tmp/network.json"
for cmd in feeds status; do
  expect 2 "$cmd of a malformed network.json" "$admin" "$cmd" --network "$tmp/network.json"
  grep -q "is not a network.json" "$tmp/out" ||
    { echo "FAIL: $cmd does not name the fault" >&2 && failures=$((failures + 1)); }
done

# init with a peer endpoint ZeroMQ cannot use: refused, no node made.
for peer in "tcp://x:-1" "tcp://a b:1" "tcp://127.0.0.1:99999" "tcp://*:7500"; do
  expect 2 "init --peer $peer" "$node" init --data "$tmp/bad-peer" --site s --kind hq --peer "$peer"
  [ -e "$tmp/bad-peer/node.toml" ] && echo "FAIL: a node was made with --peer $peer" >&2 &&
    failures=$((failures + 1))
done

# init with an API port of 0: refused (its join request would give HQ a port no node listens on).
expect 2 "init --api 127.0.0.1:0" "$node" init --data "$tmp/port-0" --site s --kind hq \
  --api 127.0.0.1:0
says "a node's API needs a fixed port"
[ -e "$tmp/port-0/node.toml" ] && echo "FAIL: a node was made with --api 127.0.0.1:0" >&2 &&
  failures=$((failures + 1))

# keygen to an empty path: an error, and no temporary file holding the seed.
cd "$tmp"
expect 1 "keygen to no file" "$admin" keygen --root-key ""
cd - >/dev/null
[ -e "$tmp/.tmp" ] && echo "FAIL: keygen left $tmp/.tmp behind" >&2 && failures=$((failures + 1))

# network create with a voter that no join request names.
"$node" init --data "$tmp/hq" --site hq --kind hq --api 127.0.0.1:7400 >/dev/null
"$admin" keygen --root-key "$tmp/root.json" >/dev/null
expect 2 "a voter no join request names" "$admin" network create --root-key "$tmp/root.json" \
  --network-id net1 --join "$tmp/hq/join-request.json" --voters hq,dr-kigali --out "$tmp/g.json"
[ -e "$tmp/g.json" ] && echo "FAIL: a genesis was written" >&2 && failures=$((failures + 1))
# A write that fails at its last step (the genesis's name is a directory) leaves no temporary file.
mkdir -p "$tmp/outdir/x"
expect 1 "a genesis written over a directory" "$admin" network create --root-key "$tmp/root.json" \
  --network-id net1 --join "$tmp/hq/join-request.json" --out "$tmp/outdir"
[ -e "$tmp/outdir.tmp" ] && echo "FAIL: a failed write left outdir.tmp" >&2 &&
  failures=$((failures + 1))
expect 0 "the same with its voters right" "$admin" network create --root-key "$tmp/root.json" \
  --network-id net1 --join "$tmp/hq/join-request.json" --voters hq --out "$tmp/g.json"

# join with a genesis that certifies this site under another node's keys: refused, nothing joined.
"$node" init --data "$tmp/hq2" --site hq --kind hq --api 127.0.0.1:7401 >/dev/null
expect 2 "a genesis made from another node's join request" "$node" join --data "$tmp/hq2" \
  --genesis "$tmp/g.json"
grep -q "not made from this node's join-request.json" "$tmp/out" ||
  { echo "FAIL: the refusal does not say why" >&2 && failures=$((failures + 1)); }
expect 0 "the node the genesis was made for joins" "$node" join --data "$tmp/hq" --genesis "$tmp/g.json"
grep -q "net1" "$tmp/hq2/node.toml" &&
  { echo "FAIL: the refused node was joined to net1" >&2 && failures=$((failures + 1)); }

# run --api ADDR:0: the ready line names the port the kernel gave, and the API answers there; a
# second node asked to listen on that port exits 1 naming it.
"$node" init --data "$tmp/solo" --site solo --kind border-post >/dev/null
officer=$("$node" token create --data "$tmp/solo" --role officer --subject officer-1)
"$node" run --data "$tmp/solo" --api 127.0.0.1:0 >"$tmp/solo.out" 2>&1 &
solo=$!
for _ in $(seq 200); do grep -q '^ready ' "$tmp/solo.out" && break; sleep 0.05; done
port=$(sed -n 's|^ready http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/solo.out")
if [ -z "$port" ] || [ "$port" -eq 0 ]; then
  echo "FAIL: run --api 127.0.0.1:0 is not ready on a port of its own:" >&2
  sed 's/^/  /' "$tmp/solo.out" >&2
  failures=$((failures + 1))
else
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  head -n 1 <&3 | grep -q ' 200 ' ||
    { echo "FAIL: no 200 from /healthz on port $port" >&2 && failures=$((failures + 1)); }
  exec 3<&-
  expect 1 "a second node on the same port" "$node" run --data "$tmp/hq2" --api "127.0.0.1:$port"
  says "cannot listen on 127.0.0.1:$port"
  # Traffic whose watchlist cannot be planted stops before it sends any (it ran and exited 0).
  expect 1 "a watchlist planted nowhere" "$traffic" --api "http://127.0.0.1:$port" \
    --token "$officer" --admin-token a --watchlist 3 --watchlist-at http://127.0.0.1:1 \
    --duration 1 --quiet
  says "cannot reach http://127.0.0.1:1 to plant the watchlist"
  # A local network whose ports are taken starts nothing (it used to take the node already there
  # for its own and say "network up").
  expect 1 "a local network on a port in use" "$sim" local up --dir "$tmp/taken" \
    --base-port "$port" --sites post-a:border-post --node-bin "$node"
  says "port $port, the API port (base + 0) of post-a, is in use; nothing was started"
  [ -e "$tmp/taken/post-a" ] && echo "FAIL: a node was set up on a taken port" >&2 &&
    failures=$((failures + 1))
fi
kill -TERM "$solo" && wait "$solo"

# local start of a site that runs already is refused (it said "started" for a node that exited at
# once, and recorded that pid); a killed one starts again; local down stops it; local up into the
# stopped network's directory says what to do.
expect 0 "a local network of one post" "$sim" local up --dir "$tmp/net" --base-port 0 \
  --sites post-a:border-post --node-bin "$node"
grep -q '"root_public_key": "[0-9a-f]\{64\}"' "$tmp/net/network.json" ||
  { echo "FAIL: network.json gives no root public key" >&2 && failures=$((failures + 1)); }
first=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$tmp/net/network.json")
expect 1 "local start of a running site" "$sim" local start --dir "$tmp/net" --site post-a
says "post-a is running already (pid $first)"
kill -KILL "$first"
expect 0 "local start of a killed site" "$sim" local start --dir "$tmp/net" --site post-a
second=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$tmp/net/network.json")
[ "$second" != "$first" ] && kill -0 "$second" 2>/dev/null ||
  { echo "FAIL: network.json does not name the restarted node" >&2 && failures=$((failures + 1)); }
expect 0 "local down" "$sim" local down --dir "$tmp/net"
kill -0 "$second" 2>/dev/null && echo "FAIL: local down left $second running" >&2 &&
  failures=$((failures + 1))
expect 1 "local up into a stopped network" "$sim" local up --dir "$tmp/net" --base-port 0 \
  --sites post-a:border-post --node-bin "$node"
says "holds a network that was stopped (network.down.json): remove the directory"

# Traffic at HQ names the post of its crossings: without --post it exits 2 before it sends any;
# with it, each crossing names that post (here not a site of net1, so the node refuses it).
hq_officer=$("$node" token create --data "$tmp/hq" --role officer --subject officer-1)
"$node" run --data "$tmp/hq" --api 127.0.0.1:0 >"$tmp/hq.out" 2>&1 &
hq=$!
for _ in $(seq 200); do grep -q '^ready ' "$tmp/hq.out" && break; sleep 0.05; done
port=$(sed -n 's|^ready http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/hq.out")
expect 2 "traffic at HQ naming no post" "$traffic" --api "http://127.0.0.1:$port" \
  --token "$hq_officer" --count 1 --quiet
says "hq is hq, where no traveller crosses: name a border post or an airport with --post SITE"
expect 1 "traffic at HQ naming a post not in the network" "$traffic" \
  --api "http://127.0.0.1:$port" --token "$hq_officer" --post gatuna --count 1 --quiet
says "post gatuna is not a site of this network"
kill -TERM "$hq" && wait "$hq"

[ "$failures" -eq 0 ] || exit 1
