#!/usr/bin/env bash
# Builds the benchmarks, runs them, and regenerates every figure of docs/benchmarks.md:
# JSON in build-bench/bench-results/, plots in docs/, tables on stdout.
# Usage: bench/run.sh [build-dir]    (extra Google Benchmark flags via BENCH_FLAGS)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-bench}"
out="$build/bench-results"
cmake -S . -B "$build" -DHAPPY_DIAL_BUILD_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_dial bench_engine
mkdir -p "$out"
for b in bench_engine bench_dial; do
  "$build/bench/$b" --benchmark_out="$out/$b.json" --benchmark_out_format=json ${BENCH_FLAGS:-}
done
python3 bench/report.py "$out/bench_dial.json" "$out/bench_engine.json" --svg-dir docs
