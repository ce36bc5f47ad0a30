#!/usr/bin/env python3
"""Turns the Google Benchmark JSON of bench_dial and bench_engine into the tables of
docs/benchmarks.md (markdown on stdout) and two SVG plots (standard library only):

  benchmarks-engine-scaling.svg   engine time per dial vs address count (log-log)
  benchmarks-latency.svg          dial latency distribution, happy_dial vs asio::async_connect

Usage: bench/report.py bench_dial.json bench_engine.json [--svg-dir docs]
"""
import argparse
import datetime
import json
import math
import os
import subprocess
from xml.sax.saxutils import escape

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
QUANTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99]


def load(path):
    with open(path) as f:
        data = json.load(f)
    by_name = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        by_name[b["name"]] = b
    return data.get("context", {}), by_name


def find(benchmarks, prefix):
    """The benchmark whose name is `prefix` or starts with `prefix/`."""
    for name, b in benchmarks.items():
        if name == prefix or name.startswith(prefix + "/"):
            return b
    return None


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=False).stdout.strip()
        if dirty:
            commit += " + uncommitted changes"
    except OSError:
        commit = "unknown"
    return model, os.cpu_count(), commit


def fmt(v, digits=2):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


# ---- SVG ---------------------------------------------------------------------------------

class Plot:
    def __init__(self, width, height, title, xlabel, ylabel, xlog, ylog, xrange, yrange):
        self.w, self.h = width, height
        self.left, self.right, self.top, self.bottom = 70, 250, 40, 50
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.xlog, self.ylog = xlog, ylog
        self.xr, self.yr = xrange, yrange
        self.items = []

    def _t(self, v, log, rng, lo_px, hi_px):
        a, b = rng
        if log:
            v, a, b = math.log10(v), math.log10(a), math.log10(b)
        return lo_px + (v - a) / (b - a) * (hi_px - lo_px)

    def x(self, v):
        return self._t(v, self.xlog, self.xr, self.left, self.w - self.right)

    def y(self, v):
        return self._t(v, self.ylog, self.yr, self.h - self.bottom, self.top)

    def line(self, pts, color, label, dash=None, markers=True):
        self.items.append((pts, color, label, dash, markers))

    def _ticks(self, log, rng):
        a, b = rng
        if log:
            return [10 ** e for e in range(math.floor(math.log10(a)), math.ceil(math.log10(b)) + 1)
                    if a <= 10 ** e <= b]
        step = 10 ** math.floor(math.log10((b - a) / 5))
        for m in (1, 2, 5, 10):
            if (b - a) / (step * m) <= 8:
                step *= m
                break
        t = math.ceil(a / step) * step
        out = []
        while t <= b + 1e-9:
            out.append(t)
            t += step
        return out

    def svg(self):
        o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{self.w}" height="{self.h}" fill="white"/>',
             f'<text x="{self.w / 2}" y="20" text-anchor="middle" font-size="14">'
             f'{escape(self.title)}</text>']
        x0, x1 = self.left, self.w - self.right
        y0, y1 = self.h - self.bottom, self.top
        for t in self._ticks(self.xlog, self.xr):
            px = self.x(t)
            o.append(f'<line x1="{px:.1f}" y1="{y0}" x2="{px:.1f}" y2="{y1}" stroke="#ddd"/>')
            o.append(f'<text x="{px:.1f}" y="{y0 + 16}" text-anchor="middle">{t:g}</text>')
        for t in self._ticks(self.ylog, self.yr):
            py = self.y(t)
            o.append(f'<line x1="{x0}" y1="{py:.1f}" x2="{x1}" y2="{py:.1f}" stroke="#ddd"/>')
            o.append(f'<text x="{x0 - 6}" y="{py + 4:.1f}" text-anchor="end">{t:g}</text>')
        o.append(f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="none" '
                 f'stroke="black"/>')
        o.append(f'<text x="{(x0 + x1) / 2}" y="{self.h - 12}" text-anchor="middle">'
                 f'{escape(self.xlabel)}</text>')
        o.append(f'<text transform="translate(16,{(y0 + y1) / 2}) rotate(-90)" '
                 f'text-anchor="middle">{escape(self.ylabel)}</text>')
        for i, (pts, color, label, dash, markers) in enumerate(self.items):
            pts = [(a, b) for a, b in pts if b is not None and b > 0 or not self.ylog]
            path = " ".join(f"{self.x(a):.1f},{self.y(b):.1f}" for a, b in pts)
            extra = f' stroke-dasharray="{dash}"' if dash else ""
            o.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                     f'stroke-width="2"{extra}/>')
            if markers:
                for a, b in pts:
                    o.append(f'<circle cx="{self.x(a):.1f}" cy="{self.y(b):.1f}" r="3" '
                             f'fill="{color}"/>')
            ly = self.top + 14 + 18 * i
            o.append(f'<line x1="{x1 + 10}" y1="{ly - 4}" x2="{x1 + 30}" y2="{ly - 4}" '
                     f'stroke="{color}" stroke-width="2"{extra}/>')
            o.append(f'<text x="{x1 + 35}" y="{ly}">{escape(label)}</text>')
        o.append("</svg>")
        return "\n".join(o) + "\n"


def engine_plot(engine):
    scenarios = ["engine_first_wins", "engine_all_refused", "engine_stagger_last_wins"]
    series = {}
    for name, b in engine.items():
        base = name.split("/")[0]
        if base in scenarios:
            n = int(b["addresses"])
            series.setdefault(base, []).append((n, b["real_time"] * TO_NS[b["time_unit"]] / 1e3))
    if not series:
        return None
    allv = [v for s in series.values() for _, v in s]
    lo, hi = min(allv), max(allv)
    p = Plot(860, 420, "dial_engine: time per dial vs address count (log-log)",
             "addresses", "time per dial (µs)", True, True, (1, 4096),
             (10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))))
    for i, sc in enumerate(scenarios):
        if sc in series:
            p.line(sorted(series[sc]), COLORS[i], sc.replace("engine_", ""))
    # Reference slopes anchored on all_refused at n = 64.
    ref = dict(series.get("engine_all_refused", []))
    if 64 in ref:
        k = ref[64] / 64
        ns = [1, 2, 8, 64, 512, 4096]
        p.line([(n, k * n) for n in ns], "#888", "O(n)", "4,4", False)
        kl = ref[64] / (64 * math.log2(64))
        p.line([(n, kl * n * max(math.log2(n), 1)) for n in ns], "#bbb", "O(n log n)", "2,3",
               False)
    return p.svg()


def latency_plot(dial):
    lines = []
    for bench, label in (("healthy_single", "single"), ("healthy_dual_stack", "dual stack")):
        b = find(dial, bench)
        if not b:
            continue
        for arm, name in (("plain", "asio::async_connect"), ("happy", "happy_dial")):
            pts = [(b.get(f"{arm}_p{q:02d}_ns", 0) / 1e3, q) for q in QUANTILES]
            lines.append((f"{name}, {label}", pts))
    if not lines:
        return None
    xs = [x for _, pts in lines for x, _ in pts]
    lo = math.floor(min(xs) / 5) * 5
    hi = math.ceil(max(xs) / 5) * 5
    p = Plot(860, 420, "Dial + close on loopback: latency distribution (CDF)",
             "latency per dial (µs)", "percentile", False, False, (lo, hi), (0, 100))
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"]
    for i, (label, pts) in enumerate(lines):
        p.line(pts, colors[i], label, None if i < 2 else "6,3")
    return p.svg()


# ---- Tables ------------------------------------------------------------------------------

def report(dial_ctx, dial, engine_ctx, engine):
    model, cpus, commit = machine()
    date = dial_ctx.get("date") or datetime.datetime.now().isoformat()
    out = []
    out.append(f"- Date: {date}")
    out.append(f"- Machine: {cpus} CPUs (`nproc`), {model}; "
               f"load average during the run: {dial_ctx.get('load_avg', '?')}")
    out.append(f"- Commit: {commit}")
    out.append(f"- Google Benchmark library build: {dial_ctx.get('library_build_type', '?')}")
    out.append("")

    out.append("### Healthy path (median of per-dial times, dials interleaved)")
    out.append("")
    out.append("| Case | asio::async_connect | happy_dial | ratio (medians) | ratio (pairwise "
               "median) | goal | connections / dial (plain, happy) | attempts / dial |")
    out.append("|---|---|---|---|---|---|---|---|")
    for bench, label in (("healthy_single", "single endpoint"),
                         ("healthy_dual_stack", "dual stack ::1 + 127.0.0.1"),
                         ("healthy_single_history", "single endpoint, with a dial_history"),
                         ("healthy_dual_stack_history", "dual stack, with a dial_history")):
        b = find(dial, bench)
        if not b:
            continue
        r = b["ratio_median"]
        out.append(
            f"| {label} | {b['plain_median_ns'] / 1e3:.2f} µs | {b['happy_median_ns'] / 1e3:.2f} µs"
            f" | **{r:.3f}x** | {b['ratio_pairwise_median']:.3f}x | <= 1.05x: "
            f"{'met' if r <= 1.05 else 'missed'} | {b['plain_connections_per_dial']:.3f}, "
            f"{b['happy_connections_per_dial']:.3f} | {b['happy_attempts_per_dial']:.3f} |")
    out.append("")

    out.append("### Heap allocations per healthy dial")
    out.append("")
    out.append("| addresses | happy_dial: operator new | bytes | through the associated "
               "allocator | asio::async_connect: operator new | through the associated allocator |")
    out.append("|---|---|---|---|---|---|")
    rows = sorted((b for n, b in dial.items() if n.startswith("allocations/")),
                  key=lambda b: b["addresses"])
    for b in rows:
        out.append(f"| {int(b['addresses'])} | {b['happy_new_per_dial']:.1f} | "
                   f"{b['happy_new_bytes_per_dial']:,.0f} | {b['happy_assoc_allocs_per_dial']:.1f}"
                   f" | {b['plain_new_per_dial']:.1f} | {b['plain_assoc_allocs_per_dial']:.1f} |")
    out.append("")

    plain_dial_ns = None
    b = find(dial, "healthy_single")
    if b:
        plain_dial_ns = b["plain_median_ns"]
    out.append("### Engine alone (simulated clock, no I/O)")
    out.append("")
    out.append("| scenario | addresses | events / dial | time / dial | time / event | "
               "time / address | exponent vs previous n | dial / plain loopback connect |")
    out.append("|---|---|---|---|---|---|---|---|")
    for sc in ("engine_first_wins", "engine_all_refused", "engine_stagger_last_wins"):
        rows = sorted((b for n, b in engine.items() if n.split("/")[0] == sc),
                      key=lambda b: b["addresses"])
        prev = None
        for b in rows:
            t = b["real_time"] * TO_NS[b["time_unit"]]
            n = b["addresses"]
            slope = "-"
            if prev:
                slope = f"{math.log(t / prev[1]) / math.log(n / prev[0]):.2f}"
            ratio = f"{t / plain_dial_ns:.3f}" if plain_dial_ns else "-"
            out.append(f"| {sc.replace('engine_', '')} | {int(n)} | {int(b['events_per_dial'])} |"
                       f" {t / 1e3:,.2f} µs | {b['time_per_event'] * 1e9:,.0f} ns | "
                       f"{b['time_per_address'] * 1e9:,.0f} ns | {slope} | {ratio} |")
            prev = (n, t)
    out.append("")

    b = find(dial, "concurrent_dials")
    if b:
        out.append("### Concurrency: all dials in flight on one io_context")
        out.append("")
        out.append("| dials | asio::async_connect | happy_dial | ratio | RSS / pending dial "
                   "(plain, happy) | heap / pending dial (plain, happy) | connections / dial |")
        out.append("|---|---|---|---|---|---|---|")
        out.append(f"| {int(b['dials'])} | {b['plain_total_ms']:.1f} ms | "
                   f"{b['happy_total_ms']:.1f} ms | **{b['ratio_total']:.3f}x** | "
                   f"{b['plain_rss_per_pending_dial_B']:,.0f} B, "
                   f"{b['happy_rss_per_pending_dial_B']:,.0f} B | "
                   f"{b['plain_heap_per_pending_dial_B']:,.0f} B, "
                   f"{b['happy_heap_per_pending_dial_B']:,.0f} B | {b['accepted_per_dial']:.3f} |")
        out.append("")

    b = find(dial, "cancel_4_black_holes")
    if b:
        out.append("### Cancellation: terminal cancel of a dial racing 4 black-holed endpoints")
        out.append("")
        out.append("| | asio::async_connect (1 attempt pending) | happy_dial "
                   "(attempts racing) | ratio |")
        out.append("|---|---|---|---|")
        out.append(f"| cancel -> completion, median | {b['plain_cancel_median_ns'] / 1e3:.1f} µs |"
                   f" {b['happy_cancel_median_ns'] / 1e3:.1f} µs "
                   f"({b['happy_attempts_racing']:.0f}) | {b['ratio_median']:.2f}x |")
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dial_json")
    ap.add_argument("engine_json")
    ap.add_argument("--svg-dir", default=None)
    args = ap.parse_args()
    dial_ctx, dial = load(args.dial_json)
    engine_ctx, engine = load(args.engine_json)
    print(report(dial_ctx, dial, engine_ctx, engine))
    if args.svg_dir:
        os.makedirs(args.svg_dir, exist_ok=True)
        for name, svg in (("benchmarks-engine-scaling.svg", engine_plot(engine)),
                          ("benchmarks-latency.svg", latency_plot(dial))):
            if svg:
                path = os.path.join(args.svg_dir, name)
                with open(path, "w") as f:
                    f.write(svg)
                print(f"\n(wrote {path})")


if __name__ == "__main__":
    main()
