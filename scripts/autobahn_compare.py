#!/usr/bin/env python3
"""Compares an Autobahn index.json with the expected results.

Each case has a verdict (behavior) and a close verdict (behaviorClose). A
case fails when either is worse than expected, by this order (best first):
OK, INFORMATIONAL, NON-STRICT, UNIMPLEMENTED, WRONG CODE, UNCLEAN, FAILED.
Missing cases count as FAILED. With --update, writes the results as the new
expected file. Ends with "N passed, N failed".
"""
import json
import sys

RANK = ["OK", "INFORMATIONAL", "NON-STRICT", "UNIMPLEMENTED", "WRONG CODE", "FAILED BY CLIENT", "UNCLEAN", "FAILED"]


def rank(verdict):
    return RANK.index(verdict) if verdict in RANK else len(RANK)


def load(index_path):
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    agent = next(iter(index.values()))
    return {case: [r.get("behavior", "FAILED"), r.get("behaviorClose", "FAILED")] for case, r in agent.items()}


def case_key(case):
    return [int(p) for p in case.split(".")]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    got = load(sys.argv[1])
    expected_path = sys.argv[2]
    if "--update" in sys.argv[3:]:
        lines = [f"  {json.dumps(case)}: {json.dumps(got[case])}" for case in sorted(got, key=case_key)]
        with open(expected_path, "w", encoding="utf-8") as f:
            f.write("{\n" + ",\n".join(lines) + "\n}\n")
        print(f"wrote {len(got)} cases to {expected_path}")
        return 0
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    passed = failed = 0
    for case in sorted(expected, key=case_key):
        want = expected[case]
        have = got.get(case, ["FAILED", "FAILED"])
        worse = [w for w, h in zip(want, have) if rank(h) > rank(w)]
        better = [w for w, h in zip(want, have) if rank(h) < rank(w)]
        if worse:
            failed += 1
            print(f"REGRESSION {case}: expected {want}, got {have}")
        else:
            passed += 1
            if better:
                print(f"improved {case}: expected {want}, got {have} (raise tests/autobahn/expected.json)")
    extra = sorted(set(got) - set(expected), key=case_key)
    if extra:
        print(f"cases not in the expected file: {', '.join(extra)}")
    summary = {}
    for verdicts in got.values():
        summary[verdicts[0]] = summary.get(verdicts[0], 0) + 1
    print("autobahn verdicts:", ", ".join(f"{k}={v}" for k, v in sorted(summary.items())))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
