#!/usr/bin/env bash
# Issue 12: does the deferred-timer shortcut (an attempt timer not armed while the connect is
# already settled) pay off off loopback?
# Builds bench_dial and runs its veth_dual_stack_shortcut benchmark N times (separate processes:
# each creates two network namespaces joined by a veth pair, dials dual stack fd00:8305::2 +
# 10.83.5.2 from one into the other, and deletes them), then prints each run's ratios and the
# median (min..max) over the runs, with date, machine, load and commit.
# Usage: sudo tools/measure/veth-probe.sh [runs] [build-dir]     (default: 5, build-bench)
# JOBS=1 limits the build's parallelism (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
build="${2:-build-bench}"
case "$runs" in
  '' | *[!0-9]*)
    echo "veth-probe.sh: runs must be a number, not '$runs'" >&2
    exit 2
    ;;
esac
if [ "$runs" -lt 1 ] || [ "$runs" -gt 50 ]; then
  echo "veth-probe.sh: runs must be 1..50" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "veth-probe.sh: needs root (the benchmark creates network namespaces): sudo $0" >&2
  exit 1
fi
command -v ip >/dev/null 2>&1 || {
  echo "veth-probe.sh: needs the ip command (iproute2)" >&2
  exit 1
}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHAPPY_DIAL_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target bench_dial >/dev/null
out="$build/veth-probe"
rm -rf "$out" && mkdir -p "$out"
for i in $(seq "$runs"); do
  cut -d' ' -f1 /proc/loadavg >"$out/load$i"
  "$build/bench/bench_dial" --benchmark_filter='^veth_dual_stack_shortcut' \
    --benchmark_out="$out/run$i.json" --benchmark_out_format=json >/dev/null 2>"$out/run$i.err" ||
    {
      cat "$out/run$i.err" >&2
      exit 1
    }
done
python3 - "$out" "$runs" <<'PY'
import json, os, statistics, subprocess, sys
out, runs = sys.argv[1], int(sys.argv[2])
rows = []
for i in range(1, runs + 1):
    b = json.load(open(f"{out}/run{i}.json"))["benchmarks"][0]
    if b.get("error_occurred"):
        sys.exit(f"veth-probe.sh: run {i}: {b.get('error_message')}")
    b["load"] = float(open(f"{out}/load{i}").read())
    rows.append(b)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True).stdout.strip()
dirty = git("status", "--porcelain", "--untracked-files=no")
date = subprocess.run(["date", "-u", "+%FT%TZ"], capture_output=True, text=True).stdout.strip()
print(f"tools/measure/veth-probe.sh: {runs} runs, {date}, {os.cpu_count()} CPUs ({cpu}), "
      f"kernel {os.uname().release}, commit {git('rev-parse', '--short', 'HEAD')}"
      f"{' + uncommitted changes' if dirty else ''}")
cols = [  # (header, counter, format)
    ("load1", "load", "{:.2f}"),
    ("plain us", "plain_median_ns", "{:.1f}"),
    ("default/plain", "ratio_default", "{:.3f}"),
    ("probe/plain", "ratio_probe", "{:.3f}"),
    ("no_probe/plain", "ratio_no_probe", "{:.3f}"),
    ("probe/no_probe", "probe_vs_no_probe", "{:.3f}"),
    ("pairwise", "probe_vs_no_probe_pairwise", "{:.3f}"),
    ("settled", "settled_fraction", "{:.3f}"),
    ("p90 probe us", "probe_p90_ns", "{:.1f}"),
    ("p90 no_probe us", "no_probe_p90_ns", "{:.1f}"),
]
def value(b, key):
    return b[key] / 1000 if key.endswith("_ns") else b[key]
print("| run | " + " | ".join(h for h, _, _ in cols) + " |")
print("|---" * (len(cols) + 1) + "|")
for i, b in enumerate(rows, 1):
    print(f"| {i} | " + " | ".join(f.format(value(b, k)) for _, k, f in cols) + " |")
def spread(key, f):
    v = [value(b, key) for b in rows]
    return f"{f.format(statistics.median(v))} ({f.format(min(v))}..{f.format(max(v))})"
print("| median (min..max) | " + " | ".join(spread(k, f) for _, k, f in cols) + " |")
print("probe/no_probe < 1: the shortcut pays; pairwise: median of per-iteration ratios. "
      "settled: fraction of probes that found the connect settled.")
PY
