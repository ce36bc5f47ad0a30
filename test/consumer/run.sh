#!/usr/bin/env bash
# Builds and runs the consumer project one way. Usage: run.sh HOW SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
how="$1" source="$2" build="$3" work="$4/$how"
rm -rf "$work"
mkdir -p "$work"
args=(-DHOW="$how" -DHAPPY_DIAL_SOURCE="$source")
if [ "$how" = find_package ]; then
  cmake --install "$build" --prefix "$work/prefix" >/dev/null
  args+=(-DCMAKE_PREFIX_PATH="$work/prefix")
fi
cmake -S "$source/test/consumer" -B "$work/build" "${args[@]}" >/dev/null
cmake --build "$work/build" -j"$(nproc)" >/dev/null
"$work/build/consumer"
