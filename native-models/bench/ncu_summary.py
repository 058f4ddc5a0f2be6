#!/usr/bin/env python3
"""Where the GPU time of a decode step goes, from Nsight Compute's per-kernel durations.

usage: ncu_summary.py NCU_CSV [REPEATS=4]   (the CSV of `ncu --metrics gpu__time_duration.sum --csv`, a run that ends
                                            with identical decode steps: gpu-session.sh kernels)
The run's kernels end with REPEATS identical steps; the shortest period P with kernel names[-REPEATS·P:] repeating
every P launches is one token (embed + decoder), and its time is averaged over the REPEATS steps.
"""
import csv
import re
import sys
from collections import defaultdict


def short(name):
    """the kernel's name with its template arguments, without `void` and the parameter list"""
    name = re.sub(r"^void ", "", name.strip())
    depth = 0
    for i, ch in enumerate(name):
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "(" and depth == 0 and i > 0:
            name = name[:i]
            break
    return name.replace("onnxruntime::", "").replace("contrib::", "")[:110]


def read(path):
    with open(path, newline="") as f:
        lines = [ln for ln in f if ln.startswith('"')]  # ncu's own messages start with ==PROF==
    rows = []
    for r in csv.DictReader(lines):
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        scale = {"nsecond": 1, "ns": 1, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6}.get(r.get("Metric Unit", "ns"), 1)
        rows.append((int(r["ID"]), r["Kernel Name"], float(r["Metric Value"].replace(",", "")) * scale))
    rows.sort()
    return [(short(n), ns) for _, n, ns in rows]


def period(names, repeats):
    for p in range(1, len(names) // repeats + 1):
        tail = names[-repeats * p:]
        if all(tail[i] == tail[i % p] for i in range(len(tail))):
            return p
    return None


def main():
    rows = read(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    names = [n for n, _ in rows]
    p = period(names, repeats)
    if not p:
        sys.exit(f"no {repeats} identical steps at the end of {len(rows)} kernels")
    tail = rows[-repeats * p:]
    agg = defaultdict(lambda: [0, 0.0])
    for n, ns in tail:
        agg[n][0] += 1
        agg[n][1] += ns
    total = sum(ns for _, ns in tail) / repeats
    print(f"{len(rows)} kernels profiled; one step = {p} kernel launches, {total / 1e6:.3f} ms of GPU time "
          f"(mean of the last {repeats} steps)")
    print(f"{'ms/step':>8} {'share':>6} {'launches':>8} {'µs each':>8}  kernel")
    for n, (c, ns) in sorted(agg.items(), key=lambda kv: -kv[1][1])[:25]:
        print(f"{ns / repeats / 1e6:8.3f} {ns / repeats / total * 100:5.1f}% {c // repeats:8d} {ns / c / 1e3:8.1f}  {n}")


if __name__ == "__main__":
    main()
