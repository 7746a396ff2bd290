#!/usr/bin/env bash
# Installs what Umupaka needs to build, test and run, from Debian 12's archive only. Idempotent:
# touches apt only when a package is missing. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ca-certificates curl
  libasio-dev libzmq3-dev cppzmq-dev liblmdb-dev libbotan-2-dev libmsgpack-cxx-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libfmt-dev librestinio-dev libhttp-parser-dev libtomlplusplus-dev libcurl4-openssl-dev
  libsodium-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
