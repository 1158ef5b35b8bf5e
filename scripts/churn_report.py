#!/usr/bin/env python3
"""The figures of scripts/churn.sh runs: RSS at fixed times, and a plot.

    scripts/churn_report.py target/churn/*/samples.jsonl --svg churn.svg

For each run (named by its directory): VmRSS and RssAnon (MiB) at 0, 1, 5,
10 and 15 minutes (the sample nearest each), the growth from 1 to 5 and from
5 to the end, and the /stats counts at the end. With --svg, VmRSS against
time for every run, one line each, in one SVG (stdlib only).
"""

import argparse
import json
import os
import sys

MARKS = [0, 60, 300, 600, 900]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def load(path):
    samples = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            if not d.get("final") and "VmRSS" in d:
                samples.append(d)
    return samples


def at(samples, t):
    best = min(samples, key=lambda s: abs(s["t"] - t))
    return best if abs(best["t"] - t) <= 10 else None


def mib(kib):
    return kib / 1024


def table(runs):
    head = "| run | " + " | ".join(f"{m // 60} min" for m in MARKS) + " | 1→5 min | 5 min→end |"
    print(head)
    print("|" + " --- |" * (len(MARKS) + 3))
    for name, samples in runs:
        cells = []
        for m in MARKS:
            s = at(samples, m)
            cells.append(f"{mib(s['VmRSS']):.1f} ({mib(s['RssAnon']):.1f})" if s else "")
        one, five, last = at(samples, 60), at(samples, 300), samples[-1]
        g1 = f"{(five['VmRSS'] / one['VmRSS'] - 1) * 100:+.1f} %" if one and five else ""
        g2 = f"{(last['VmRSS'] / five['VmRSS'] - 1) * 100:+.1f} % ({last['t'] / 60:.0f} min)" if five else ""
        print(f"| {name} | " + " | ".join(cells) + f" | {g1} | {g2} |")


def svg(runs, path):
    w, h, left, bottom, top, right = 720, 360, 60, 40, 20, 140
    tmax = max(s[-1]["t"] for _, s in runs)
    rmax = max(max(mib(x["VmRSS"]) for x in s) for _, s in runs)
    rmax = (int(rmax / 5) + 1) * 5
    def x(t):
        return left + (w - left - right) * t / tmax
    def y(r):
        return h - bottom - (h - bottom - top) * r / rmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">']
    out.append(f'<rect width="{w}" height="{h}" fill="white"/>')
    for r in range(0, rmax + 1, 5):
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y(r):.1f}" y2="{y(r):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(r) + 4:.1f}" text-anchor="end">{r}</text>')
    for m in range(0, int(tmax / 60) + 1):
        if m % 5 == 0 or tmax <= 600:
            out.append(f'<line x1="{x(m * 60):.1f}" x2="{x(m * 60):.1f}" y1="{top}" y2="{h - bottom}" stroke="#eee"/>')
            out.append(f'<text x="{x(m * 60):.1f}" y="{h - bottom + 14}" text-anchor="middle">{m}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 6}" text-anchor="middle">minutes of churn</text>')
    out.append(f'<text x="14" y="{(h - bottom + top) / 2}" transform="rotate(-90 14 {(h - bottom + top) / 2})" text-anchor="middle">server VmRSS, MiB</text>')
    for i, (name, samples) in enumerate(runs):
        c = COLOURS[i % len(COLOURS)]
        pts = " ".join(f"{x(s['t']):.1f},{y(mib(s['VmRSS'])):.1f}" for s in samples)
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{pts}"/>')
        out.append(f'<rect x="{w - right + 10}" y="{top + 16 * i}" width="10" height="10" fill="{c}"/>')
        out.append(f'<text x="{w - right + 24}" y="{top + 16 * i + 9}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("samples", nargs="+")
    p.add_argument("--svg")
    a = p.parse_args()
    runs = [(os.path.basename(os.path.dirname(os.path.abspath(f))), load(f)) for f in a.samples]
    runs = [(n, s) for n, s in runs if s]
    if not runs:
        sys.exit("no samples")
    table(runs)
    if a.svg:
        svg(runs, a.svg)


if __name__ == "__main__":
    main()
