#!/usr/bin/env python3
"""The tables of scripts/bench-ceilings.sh: every run's report (CASE-SERVER-REP.json
in the directory given), before and after side by side, and after / before."""

import json
import os
import sys

MIB = 1048576.0


def load(out, case, which, rep):
    path = os.path.join(out, f"{case}-{which}-{rep}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def mib(v):
    return "?" if v is None else f"{v / MIB:.1f}"


def ms(v):
    return "?" if v is None else f"{v:.1f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.3f}×"


def reps(out):
    found = set()
    for name in os.listdir(out):
        if name.endswith(".json"):
            found.add(int(name.rsplit("-", 1)[1][:-5]))
    return sorted(found)


def flood_row(r):
    if r is None:
        return None
    return {
        "rss": r.get("server_rss_after"),
        "anon": r.get("server_anon_after"),
        "danon": r.get("server_anon_delta"),
        "used": r.get("history_bytes_used"),
        "topics": r.get("topics_after"),
        "accepted": r.get("accepted"),
        "refused": r.get("refused"),
        "per": r.get("server_anon_delta_per_accepted"),
    }


def main():
    out = sys.argv[1]
    runs = reps(out)
    print("| case | run | before: VmRSS · RssAnon after (MiB) | after: VmRSS · RssAnon after (MiB) |"
          " after: history_bytes used (MiB) · topics | RssAnon growth, after ÷ before |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case in ["flood-1mib", "flood-1mib-64", "flood-lf", "flood-topics", "flood-topics-150k", "per-event"]:
        for rep in runs:
            b = flood_row(load(out, case, "before", rep))
            a = flood_row(load(out, case, "after", rep))
            if a is None and b is None:
                continue
            bt = "–" if b is None else f"{mib(b['rss'])} · {mib(b['anon'])}"
            at = "–" if a is None else f"{mib(a['rss'])} · {mib(a['anon'])}"
            hu = "–" if a is None else f"{mib(a['used'])} · {a['topics']:.0f}"
            for who, r in (("before", b), ("after", a)):
                if r and r["refused"]:
                    hu += f" ({who}: {r['refused']:.0f} refused)"
            if b and case.startswith("flood-topics"):
                hu += f"; before: {b['topics']:.0f} topics"
            rr = ratio(a and a["danon"], b and b["danon"])
            print(f"| {case} | {rep} | {bt} | {at} | {hu} | {rr} |")
    print()
    print("| per kept event (100,000 × 64 B, 100 topics) | run | before | after | after ÷ before |")
    print("| --- | --- | --- | --- | --- |")
    for rep in runs:
        b = flood_row(load(out, "per-event", "before", rep))
        a = flood_row(load(out, "per-event", "after", rep))
        if a is None or b is None:
            continue
        cost = a["used"] / a["accepted"] if a["used"] and a["accepted"] else None
        print(f"| ΔRssAnon / event (B) | {rep} | {b['per']:.0f} | {a['per']:.0f} | {ratio(a['per'], b['per'])} |")
        print(f"| history_bytes used / event (B; `Message::cost`) | {rep} | – | {cost:.0f} | |")
    print()
    for case, subs in (("stall-multi", "2,000"), ("stall-multi-1000", "1,000")):
        stall_table(out, runs, case, subs)
    teardown_table(out, runs)


def nstat(out, case, which, rep):
    path = os.path.join(out, f"{case}-{which}-{rep}.nstat.txt")
    if not os.path.exists(path):
        return "?"
    got = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                got[parts[0].replace("TcpExt", "")] = parts[1]
    return f"{got.get('TCPTimeouts', '0')} · {got.get('TCPRcvQDrop', '0')}"


def passes(out, case, which, rep):
    path = os.path.join(out, f"{case}-{which}-{rep}.passes.txt")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        lines = f.read().split("\n")
    return float(lines[1].split()[0]) if len(lines) > 1 and lines[1].strip() else None


def stall_table(out, runs, case, subs):
    print()
    print(f"| {case}: 1 MiB to {subs} /topics/a,b | run | before | after | after ÷ before |")
    print("| --- | --- | --- | --- | --- |")
    for rep in runs:
        b = load(out, case, "before", rep)
        a = load(out, case, "after", rep)
        if a is None or b is None:
            continue

        def peak(r, k):
            return r[f"server_{k}_peak"] - r[f"server_{k}_start"]

        def lat(r, p):
            return r["plaintext_during_fanout"][p] / 1000.0

        print(f"| peak VmRSS growth (MiB) | {rep} | {mib(peak(b, 'rss'))} | {mib(peak(a, 'rss'))} |"
              f" {ratio(peak(a, 'rss'), peak(b, 'rss'))} |")
        print(f"| peak RssAnon growth (MiB) | {rep} | {mib(peak(b, 'anon'))} | {mib(peak(a, 'anon'))} |"
              f" {ratio(peak(a, 'anon'), peak(b, 'anon'))} |")
        for p in ["p50_us", "p99_us", "max_us"]:
            print(f"| /plaintext {p[:-3]} during (ms) | {rep} | {ms(lat(b, p))} | {ms(lat(a, p))} |"
                  f" {ratio(lat(a, p), lat(b, p))} |")
        print(f"| fan-out completion (ms) | {rep} | {ms(b['fanout_max_ms'])} | {ms(a['fanout_max_ms'])} |"
              f" {ratio(a['fanout_max_ms'], b['fanout_max_ms'])} |")
        print(f"| lost · closed | {rep} | {b['lost']:.0f} · {b['closed_by_server']:.0f} |"
              f" {a['lost']:.0f} · {a['closed_by_server']:.0f} | |")
        pb, pa = passes(out, case, "before", rep), passes(out, case, "after", rep)
        if pb is not None or pa is not None:
            print(f"| longest loop pass (ms) | {rep} | {ms(pb)} | {ms(pa)} | {ratio(pa, pb)} |")
        print(f"| machine TCP retransmit timeouts · receive-queue drops | {rep} |"
              f" {nstat(out, case, 'before', rep)} | {nstat(out, case, 'after', rep)} | |")


def teardown_table(out, runs):
    print()
    print("| teardown: 16,000 × /topics/t0,…,t15 leave | run | before | after | after ÷ before |")
    print("| --- | --- | --- | --- | --- |")
    for rep in runs:
        b = load(out, "teardown", "before", rep)
        a = load(out, "teardown", "after", rep)
        if a is None or b is None:
            continue

        def lat(r, p):
            return r["plaintext_during_teardown"][p] / 1000.0

        print(f"| until /stats counts them gone (ms) | {rep} | {ms(b['gone_ms'])} | {ms(a['gone_ms'])} |"
              f" {ratio(a['gone_ms'], b['gone_ms'])} |")
        print(f"| until the client processes were gone (ms) | {rep} | {ms(b['clients_closed_ms'])} |"
              f" {ms(a['clients_closed_ms'])} | |")
        print(f"| slowest /stats answer (ms) | {rep} | {ms(b['stats_max_ms'])} | {ms(a['stats_max_ms'])} |"
              f" {ratio(a['stats_max_ms'], b['stats_max_ms'])} |")
        for p in ["p50_us", "p99_us", "max_us"]:
            print(f"| /plaintext {p[:-3]} meanwhile (ms) | {rep} | {ms(lat(b, p))} | {ms(lat(a, p))} |"
                  f" {ratio(lat(a, p), lat(b, p))} |")
        print(f"| /plaintext p99 before it (ms) | {rep} | {ms(b['plaintext_quiet']['p99_us'] / 1000)} |"
              f" {ms(a['plaintext_quiet']['p99_us'] / 1000)} | |")
        pb, pa = passes(out, "teardown", "before", rep), passes(out, "teardown", "after", rep)
        if pb is not None or pa is not None:
            print(f"| longest loop pass (ms) | {rep} | {ms(pb)} | {ms(pa)} | {ratio(pa, pb)} |")


if __name__ == "__main__":
    main()
