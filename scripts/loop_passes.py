#!/usr/bin/env python3
"""The longest loop passes of a server, from epoll_wait tracepoints:

    perf record -e syscalls:sys_enter_epoll_wait -e syscalls:sys_exit_epoll_wait \\
        -p PID -o passes.data -- sleep 4
    perf script -i passes.data -F time,event,trace | scripts/loop_passes.py [N]

A pass is the time from one epoll_wait's return to the next one's entry:
the work the loop did for the events it got (the return value, in hex).
Prints the pass count and the N (10) longest."""

import sys

top = int(sys.argv[1]) if len(sys.argv) > 1 else 10
last = None
passes = []
for line in sys.stdin:
    parts = line.split()
    if len(parts) < 2:
        continue
    t = float(parts[0].rstrip(":"))
    if "sys_exit" in parts[1]:
        last = (t, parts[-1])
    elif last is not None:
        passes.append((t - last[0], int(last[1], 16) if last[1].startswith("0x") else last[1], last[0]))
        last = None
passes.sort(reverse=True)
print(f"passes: {len(passes)}")
for length, events, at in passes[:top]:
    print(f"  {length * 1000:8.2f} ms  after {events} events  (at {at:.3f} s)")
