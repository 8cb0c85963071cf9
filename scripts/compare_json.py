#!/usr/bin/env python3
"""Compare two JSON-lines files value by value, numbers within a tolerance.

    compare_json.py EXPECTED ACTUAL [--tol 1e-5] [--ignore timings --ignore file ...]

Line i of EXPECTED is compared with line i of ACTUAL (blank lines skipped). Objects must have the
same keys (except ignored ones, at any depth), arrays the same length, strings/booleans/null be
equal, and numbers satisfy |a - b| <= tol * max(1, |a|, |b|) (absolute below 1, relative above).
Prints each difference as `line N: path: expected vs actual`; exits 0 when there is none, 1 when
there are differences, 2 on unreadable input. Standard library only.
"""

import argparse
import json
import sys


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compare(expected, actual, path, tol, ignore, diffs):
    """Appends (path, expected, actual) for every difference under `path`."""
    if is_number(expected) and is_number(actual):
        if abs(expected - actual) > tol * max(1.0, abs(expected), abs(actual)):
            diffs.append((path, expected, actual))
    elif isinstance(expected, dict) and isinstance(actual, dict):
        keys = [k for k in expected if k not in ignore] + [
            k for k in actual if k not in expected and k not in ignore
        ]
        for k in keys:
            sub = f"{path}.{k}" if path else k
            if k not in actual:
                diffs.append((sub, expected[k], "<missing>"))
            elif k not in expected:
                diffs.append((sub, "<missing>", actual[k]))
            else:
                compare(expected[k], actual[k], sub, tol, ignore, diffs)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            diffs.append((f"{path} (length)", len(expected), len(actual)))
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{path}[{i}]", tol, ignore, diffs)
    elif type(expected) is not type(actual) or expected != actual:
        diffs.append((path, expected, actual))


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("expected")
    p.add_argument("actual")
    p.add_argument("--tol", type=float, default=1e-5, help="tolerance (default 1e-5)")
    p.add_argument(
        "--ignore",
        action="append",
        default=None,
        metavar="KEY",
        help="object key to skip at any depth (repeatable; default: timings)",
    )
    args = p.parse_args(argv)
    ignore = set(args.ignore if args.ignore is not None else ["timings"])
    try:
        expected, actual = read_lines(args.expected), read_lines(args.actual)
    except (OSError, ValueError) as e:
        print(f"compare_json: {e}", file=sys.stderr)
        return 2

    diffs = []
    if len(expected) != len(actual):
        print(f"line count differs: {len(expected)} expected, {len(actual)} actual")
        diffs.append(None)
    for n, (e, a) in enumerate(zip(expected, actual), start=1):
        line_diffs = []
        compare(e, a, "", args.tol, ignore, line_diffs)
        for path, ev, av in line_diffs:
            print(f"line {n}: {path or '<root>'}: {ev!r} vs {av!r}")
        diffs += line_diffs
    if diffs:
        return 1
    print(f"{len(expected)} line(s) match within {args.tol:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
