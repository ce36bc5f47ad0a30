#!/usr/bin/env bash
# Installs every Debian 12 package happy_dial needs to build, test, benchmark and package.
# Idempotent: only packages that are missing are installed; nothing happens when all are present.
set -euo pipefail

packages=(
  build-essential      # g++ 12, make
  cmake                # 3.25
  libboost1.81-dev     # Asio 1.26 (1.74, Debian's default, lacks cancellation slots and deferred)
  catch2               # 2.13, with Catch.cmake for catch_discover_tests
  libbenchmark-dev     # Google Benchmark for bench/
  pkgconf              # pkg-config, for the consumer test of the installed happy_dial.pc
  iproute2             # ip netns for the scenario suite
  nftables             # per-address black hole / refuse / counters in namespaces
  iptables             # ip(6)tables NFQUEUE for the scenario suite's SYN queue (per-address latency)
  libc-ares-dev        # 1.18: the c-ares resolver backend (docs/resolvers.md)
  libssl-dev           # TLS racing (happy_dial/tls.hpp), the CLI's --tls, the TLS example
  doxygen              # the API reference (cmake --build build --target docs)
  clang                # clang 14 for the libFuzzer targets in fuzz/ (tools/ci-hardening.sh)
  libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for clang
  debhelper            # dh (compat 13) for debian/: tools/debian-package-test.sh, dpkg-buildpackage
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
