"""Score `monitor scan` against a labeled stream folder (feeds + labels.yaml).

    .venv/bin/python benchmarks/quality.py tests/data/stream6 [--mismatches]

Prints precision and recall of `new`, verdict accuracy, duplicate_of agreement and traps.
tests/test_stream_quality.py holds streams 1-5 to thresholds; a stream kept out of it
(stream6) is a held-out measure: score it here before and after a change to the
classifier, and never tune against it alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--mismatches", action="store_true", help="list every entry judged otherwise")
    args = parser.parse_args()
    labels = YAML(typ="safe").load((args.stream / "labels.yaml").read_text(encoding="utf-8"))["entries"]
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
         "scan", str(args.stream)],
        capture_output=True, text=True, check=False,
    )
    got = {line["id"]: line for line in map(json.loads, run.stdout.splitlines())}
    tp = fp = fn = right = dup_total = dup_right = traps = traps_right = 0
    wrong = []
    for key, label in labels.items():
        line = got.get(key)
        verdict = line["verdict"] if line else "missing"
        expected = label["verdict"]
        right += verdict == expected
        tp += expected == "new" and verdict == "new"
        fp += expected != "new" and verdict == "new"
        fn += expected == "new" and verdict != "new"
        if expected == "duplicate":
            dup_total += 1
            dup_right += bool(line) and line["duplicate_of"] == label.get("duplicate_of")
        if label.get("trap"):
            traps += 1
            traps_right += verdict == "none"
        if verdict != expected:
            wrong.append((key, (line or {}).get("title", ""), expected, verdict))
    n = len(labels)
    print(f"{args.stream}: {n} entries")
    print(f"new: precision {tp / ((tp + fp) or 1):.2f}, recall {tp / ((tp + fn) or 1):.2f} ({tp} right, {fp} false alerts, {fn} missed)")
    print(f"verdict accuracy {right / (n or 1):.2f}; duplicate_of right {dup_right}/{dup_total}; traps none {traps_right}/{traps}")
    if args.mismatches:
        for key, title, expected, verdict in wrong:
            print(f"  {expected:>9} -> {verdict:<9} {title[:80]}  ({key})")


if __name__ == "__main__":
    main()
