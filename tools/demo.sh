#!/usr/bin/env bash
# Installs what is missing, builds the happy-dial tool and runs its self-contained demo:
# happy_dial and plain asio::async_connect dialling a host whose IPv6 path is black-holed.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"

tools/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target happy-dial
"$build/tools/happy-dial/happy-dial" --demo
