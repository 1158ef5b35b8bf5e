#!/usr/bin/env python3
"""The Markdown tables of docs/BENCHMARKS.md from the reports of scripts/bench.sh.

usage: bench_table.py OUT_DIR SERVER...   (reads OUT_DIR/{scenario}-{server}.json)

A cell is the figure, then the server's CPU per unit of work where it has one.
"(load-bound)" marks a run in which the load generator used over 90 % of its
core: that rate is the load generator's, and only the CPU per unit describes
the server. The last column compares pushwire with the best peer.
"""
import json
import os
import sys


def load(out, scenario, server):
    try:
        with open(os.path.join(out, f"{scenario}-{server}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def get(report, path):
    for part in path.split("."):
        if not isinstance(report, dict) or part not in report:
            return None
        report = report[part]
    return report


def si(n):
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{unit}".replace(".0" + unit, unit)
    return f"{n:.3g}"


# figure, scenario, value path, format, better ("low"/"high"), cpu path or None
ROWS = [
    ("server RSS per idle WebSocket connection", "capacity-ws", "server_rss_per_conn", "{:.0f} B", "low", None),
    ("server RSS per idle SSE connection", "capacity-sse", "server_rss_per_conn", "{:.0f} B", "low", None),
    ("WebSocket fan-out deliveries/s", "fanout-ws", "deliveries_per_second", "si", "high", "window.server_ns_per_unit"),
    ("SSE fan-out deliveries/s", "fanout-sse", "deliveries_per_second", "si", "high", "window.server_ns_per_unit"),
    ("WebSocket fan-out at 10 publishes/s, p99 latency", "fanout-ws-10", "latency.p99_us", "ms", "low", None),
    ("echo, 100 connections, 16 in flight, msgs/s", "echo-16", "per_second", "si", "high", "window.server_ns_per_unit"),
    ("echo, 100 connections, 1 in flight, msgs/s", "echo-1", "per_second", "si", "high", "window.server_ns_per_unit"),
    ("echo, 100 connections, 1 in flight, p99 latency", "echo-1", "latency.p99_us", "ms", "low", None),
    ("HTTP /plaintext, 64 connections, req/s", "plaintext", "per_second", "si", "high", "window.server_ns_per_unit"),
    ("/plaintext p99 during 3 × 1 MiB to 2,000 SSE streams", "stall-sse", "plaintext_during_fanout.p99_us", "ms", "low", None),
    ("slowest of those fan-outs", "stall-sse", "fanout_max_ms", "{:.0f} ms", "low", None),
    ("/plaintext p99 during 3 × 1 MiB to 1,000 SSE streams", "stall-sse-1000", "plaintext_during_fanout.p99_us", "ms", "low", None),
    ("slowest of those fan-outs", "stall-sse-1000", "fanout_max_ms", "{:.0f} ms", "low", None),
]


def cell(report, path, fmt, cpu):
    if report is None:
        return "—", None
    value = get(report, path)
    if value is None:
        return "n/a", None
    if fmt == "si":
        text = si(value)
    elif fmt == "ms":
        text = f"{value / 1000:.2f} ms"
    else:
        text = fmt.format(value)
    if cpu and get(report, cpu) is not None:
        text += f" · {get(report, cpu):.0f} ns CPU"
    if get(report, "window.load_saturated"):
        text += " (load-bound)"
    if get(report, "errors"):
        text += " ⚠"
    return text, value


def main():
    out, servers = sys.argv[1], sys.argv[2:]
    print("| figure | " + " | ".join(servers) + " | pushwire ÷ best peer |")
    print("| --- |" + " --- |" * (len(servers) + 1))
    for name, scenario, path, fmt, better, cpu in ROWS:
        cells, values = [], {}
        for server in servers:
            text, value = cell(load(out, scenario, server), path, fmt, cpu)
            cells.append(text)
            values[server] = value
        peers = [v for s, v in values.items() if s != "pushwire" and v is not None]
        ratio = "—"
        if values.get("pushwire") is not None and peers:
            best = min(peers) if better == "low" else max(peers)
            if best:
                ratio = f"{values['pushwire'] / best:.2f}×"
            cpu_ratio = None
            if cpu:
                pcpu = get(load(out, scenario, "pushwire"), cpu)
                cpus = [get(load(out, scenario, s), cpu) for s in servers if s != "pushwire"]
                cpus = [c for c in cpus if c]
                if pcpu and cpus:
                    cpu_ratio = pcpu / min(cpus)
            if cpu_ratio is not None:
                ratio += f" (CPU {cpu_ratio:.2f}×)"
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")

    report = load(out, "bytes", "pushwire")
    if report:
        print()
        print(f"Bytes on the wire per update (pushwire; {report['updates']} updates of "
              f"{report['size']} B, one every {report['interval_ms']} ms; TCP payload, both directions):")
        print()
        print("| method | setup (B) | per update, setup included (B) | per update, without setup (B) | requests |")
        print("| --- | --- | --- | --- | --- |")
        for m in report["methods"]:
            if not m.get("supported", False):
                print(f"| {m['method']} | not supported | | | |")
                continue
            setup = m["setup_bytes_up"] + m["setup_bytes_down"]
            print(f"| {m['method']} | {setup} | {m['bytes_per_update']:.0f} | "
                  f"{m['bytes_per_update_without_setup']:.0f} | {m['requests']} |")


if __name__ == "__main__":
    main()
