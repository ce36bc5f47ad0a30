#!/usr/bin/env bash
# What one system call costs on this machine: the healthy dual-stack dial makes exactly one more
# than plain asio::async_connect (the zero-timeout poll() that lets it skip arming its attempt
# timer), so this cost, against a ~25 us loopback dial, is most of its overhead.
# Usage: tools/measure/syscall-cost.sh
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
g++ -O2 -std=c++20 syscall_cost.cpp -o "$work/syscall_cost"
echo "syscall cost, $(date -u +%FT%TZ), $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
for _ in 1 2 3; do "$work/syscall_cost"; done
