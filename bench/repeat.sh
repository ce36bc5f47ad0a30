#!/usr/bin/env bash
# The healthy-path ratio and allocations, repeated: runs bench_dial's healthy and allocation
# benchmarks N times (separate processes) and prints each case's ratio against plain
# asio::async_connect as median, min and max over the runs, with date, machine and commit.
# Usage: bench/repeat.sh [runs] [build-dir]     (default: 7, build-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
build="${2:-build-bench}"
cmake -S . -B "$build" -DHAPPY_DIAL_BUILD_BENCHMARKS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_dial >/dev/null
out="$build/bench-repeat"
rm -rf "$out" && mkdir -p "$out"
for i in $(seq "$runs"); do
  "$build/bench/bench_dial" --benchmark_filter='healthy|allocations/(1|2)/' \
    --benchmark_out="$out/run$i.json" --benchmark_out_format=json >/dev/null
done
python3 - "$out" "$runs" <<'PY'
import json, os, platform, statistics, subprocess, sys
out, runs = sys.argv[1], int(sys.argv[2])
rows = {}
for i in range(1, runs + 1):
    for b in json.load(open(f"{out}/run{i}.json"))["benchmarks"]:
        rows.setdefault(b["name"], []).append(b)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
date = subprocess.run(["date", "-u", "+%FT%TZ"], capture_output=True, text=True).stdout.strip()
print(f"bench/repeat.sh: {runs} runs, {date}, {os.cpu_count()} CPUs ({cpu}), load {os.getloadavg()[0]:.2f}, commit {commit}{' + uncommitted changes' if dirty else ''}")
def spread(vals):
    return f"{statistics.median(vals):.3f}x (min {min(vals):.3f}, max {max(vals):.3f})"
for name, bs in sorted(rows.items()):
    if "healthy" in name:
        print(f"{name:<40} ratio of medians {spread([b['ratio_median'] for b in bs])}; "
              f"pairwise {spread([b['ratio_pairwise_median'] for b in bs])}; "
              f"happy {statistics.median(b['happy_median_ns'] for b in bs)/1000:.2f} us, "
              f"plain {statistics.median(b['plain_median_ns'] for b in bs)/1000:.2f} us")
    elif "allocations" in name:
        print(f"{name:<40} operator new per dial: happy {statistics.median(b['happy_new_per_dial'] for b in bs):.1f}, "
              f"plain {statistics.median(b['plain_new_per_dial'] for b in bs):.1f}; through the associated allocator: "
              f"happy {statistics.median(b['happy_assoc_allocs_per_dial'] for b in bs):.1f}")
PY
