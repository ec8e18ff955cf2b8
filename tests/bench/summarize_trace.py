#!/usr/bin/env python3
"""Self time per operator of a Chrome trace written by `gafx bench train --profile FILE`.

Usage: tests/bench/summarize_trace.py TRACE.json [--top N]
Self time = an event's duration minus the events nested inside it on the same thread, so the
shares add up to the traced wall time of each thread.
"""
import argparse
import collections
import json


def self_times(events):
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    totals, wall = collections.Counter(), 0
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack, child = [], collections.Counter()
        for i, e in enumerate(evs):
            while stack and evs[stack[-1]]["ts"] + evs[stack[-1]]["dur"] <= e["ts"]:
                stack.pop()
            if stack:
                child[stack[-1]] += e["dur"]
            else:
                wall += e["dur"]
            stack.append(i)
        for i, e in enumerate(evs):
            totals[e["name"]] += e["dur"] - child[i]
    return totals, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args()
    data = json.load(open(a.trace))
    events = data.get("traceEvents", []) if isinstance(data, dict) else data
    totals, wall = self_times(events)
    s = sum(totals.values()) or 1
    print(f"{a.trace}: {wall / 1e6:.2f} s traced")
    for name, t in totals.most_common(a.top):
        print(f"  {name[:48]:48s} {t / 1e6:8.3f} s {100 * t / s:5.1f} %")


if __name__ == "__main__":
    main()
