#!/usr/bin/env bash
# A/B of two commits on the healthy path: builds bench_dial of each commit (git worktrees under
# /tmp) and runs their healthy_single and healthy_dual_stack benchmarks alternately, N rounds,
# then prints each case's ratio against plain asio::async_connect per commit: median (min..max)
# over the rounds, with date, machine and load. Usage: tools/measure/ab-healthy.sh OLD NEW [N=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
old="$1" new="$2" rounds="${3:-3}"
work="$(mktemp -d /tmp/hd-ab.XXXXXX)"
trap 'git worktree remove --force "$work/old" 2>/dev/null || true;
      git worktree remove --force "$work/new" 2>/dev/null || true; rm -rf "$work"' EXIT
for side in old new; do
  git worktree add -q --detach "$work/$side" "${!side}"
  cmake -S "$work/$side" -B "$work/$side/build" -DCMAKE_BUILD_TYPE=Release \
    -DHAPPY_DIAL_BUILD_BENCHMARKS=ON >/dev/null
  cmake --build "$work/$side/build" -j"$(nproc)" --target bench_dial >/dev/null
done
for i in $(seq "$rounds"); do
  for side in old new; do
    "$work/$side/build/bench/bench_dial" --benchmark_filter='healthy_(single|dual_stack)/' \
      --benchmark_out="$work/$side-$i.json" --benchmark_out_format=json >/dev/null
  done
done
python3 - "$work" "$rounds" "$old" "$new" <<'PY'
import json, os, statistics, subprocess, sys
work, rounds, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
date = subprocess.run(["date", "-u", "+%FT%TZ"], capture_output=True, text=True).stdout.strip()
print(f"ab-healthy.sh: {rounds} rounds, {date}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
for side, commit in (("old", old), ("new", new)):
    rows = {}
    for i in range(1, rounds + 1):
        for b in json.load(open(f"{work}/{side}-{i}.json"))["benchmarks"]:
            rows.setdefault(b["name"].split("/")[0], []).append(b["ratio_median"])
    for name, vals in sorted(rows.items()):
        print(f"{commit:<12} {name:<20} {statistics.median(vals):.3f}x ({min(vals):.3f}..{max(vals):.3f})")
PY
