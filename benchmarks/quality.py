"""Score `monitor scan` against labeled streams: one table, first sight beside now.

    .venv/bin/python benchmarks/quality.py                       # every stream under tests/data
    .venv/bin/python benchmarks/quality.py tests/data/families/belarus --mismatches
    .venv/bin/python benchmarks/quality.py --held-out --record-first-sight tests/data/families/russia

A stream is a folder of feed files and `labels.yaml`; a stream of another case family
carries its own `config/` and `baseline/` (else the shipped ones are used). For each stream:
precision and recall of `new`, type right among caught developments (the stated type is a
claim), case right among them, subject F1 over all entries, and verdict accuracy.

First sight is the honest figure: the score of a stream before any change made for it.
`--record-first-sight` writes it once into tests/data/first_sight.yaml and refuses to
overwrite it; that file also says which streams are held out: they are skipped unless
`--held-out` is given, which is done once, at the end of a round of changes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
FIRST_SIGHT = DATA / "first_sight.yaml"


@dataclass
class Score:
    entries: int
    tp: int
    fp: int
    fn: int
    type_right: int
    case_right: int
    subject_f1: float
    accuracy: float
    mismatches: list[tuple[str, str, str, str]]
    # What a subscriber sees: one alert per development, whichever of its reports it is on.
    alerts: int = 0
    true_alerts: int = 0  # the first alert of a labeled development
    developments: int = 0
    alerted: int = 0  # labeled developments that got an alert
    alert_type_right: int = 0

    @property
    def precision(self) -> float:
        return self.tp / ((self.tp + self.fp) or 1)

    @property
    def recall(self) -> float:
        return self.tp / ((self.tp + self.fn) or 1)

    @property
    def alert_precision(self) -> float:
        return self.true_alerts / (self.alerts or 1)

    @property
    def alert_recall(self) -> float:
        return self.alerted / (self.developments or 1)

    @property
    def type_rate(self) -> float:
        return self.type_right / (self.tp or 1)

    def figures(self) -> dict[str, float]:
        return {"precision": round(self.precision, 2), "recall": round(self.recall, 2),
                "type_right": round(self.type_rate, 2), "subject_f1": round(self.subject_f1, 2)}


def streams_under(folder: Path) -> list[Path]:
    return sorted(p.parent for p in folder.rglob("labels.yaml"))


def scan(stream: Path) -> dict[str, dict]:
    config = stream / "config" if (stream / "config").is_dir() else ROOT / "config"
    baseline = stream / "baseline" if (stream / "baseline").is_dir() else ROOT / "baseline"
    feeds = stream / "feeds" if (stream / "feeds").is_dir() else stream
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--baseline", str(baseline), "scan", str(feeds)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )
    if run.returncode not in (0, 1) or not run.stdout.strip():
        raise SystemExit(f"{stream}: monitor scan failed ({run.returncode}):\n{run.stderr}")
    return {line["id"]: line for line in map(json.loads, run.stdout.splitlines())}


def score(stream: Path) -> Score:
    labels = YAML(typ="safe").load((stream / "labels.yaml").read_text(encoding="utf-8"))["entries"]
    got = scan(stream)
    tp = fp = fn = right = type_right = case_right = 0
    people_tp = people_fp = people_fn = 0
    wrong = []
    for key, label in labels.items():
        line = got.get(str(key))
        verdict = line["verdict"] if line else "missing"
        expected = label["verdict"]
        right += verdict == expected
        if expected == "new" and verdict == "new":
            tp += 1
            development = line.get("development") or {}
            type_right += development.get("type") == label.get("type")
            case_right += development.get("case") == label.get("case")
        fp += expected != "new" and verdict == "new"
        fn += expected == "new" and verdict != "new"
        want, have = set(label.get("people") or []), set((line or {}).get("people") or [])
        people_tp += len(want & have)
        people_fp += len(have - want)
        people_fn += len(want - have)
        if verdict != expected or (expected == verdict == "new" and (line.get("development") or {}).get("type") != label.get("type")):
            stated = (line or {}).get("development") or {}
            wrong.append((str(key), (line or {}).get("title", ""), f"{expected}/{label.get('type', '')}",
                          f"{verdict}/{stated.get('type', '')}"))
    f1 = 2 * people_tp / ((2 * people_tp + people_fp + people_fn) or 1)
    result = Score(len(labels), tp, fp, fn, type_right, case_right, f1, right / (len(labels) or 1), wrong)
    _score_alerts(result, labels, got)
    return result


def _score_alerts(result: Score, labels: dict, got: dict[str, dict]) -> None:
    """Development-level figures: a development is caught when any of its reports (the first,
    or a duplicate: a twin in another language, a restatement) is the monitor's `new`; a second
    alert for it, or an alert for no development, is a false alert."""
    story_of = {str(k): str(k) for k, label in labels.items() if label["verdict"] == "new"}
    story_of.update({str(k): str(label["duplicate_of"]) for k, label in labels.items()
                     if label["verdict"] == "duplicate" and label.get("duplicate_of")})
    result.developments = sum(1 for label in labels.values() if label["verdict"] == "new")
    alerted: set[str] = set()
    for key, line in got.items():
        if line["verdict"] != "new" or key not in {str(k) for k in labels}:
            continue
        result.alerts += 1
        story = story_of.get(key)
        if story is None or story in alerted:
            continue
        alerted.add(story)
        result.true_alerts += 1
        result.alert_type_right += (line.get("development") or {}).get("type") == labels_type(labels, story)
    result.alerted = len(alerted)


def labels_type(labels: dict, key: str) -> str | None:
    for k, label in labels.items():
        if str(k) == key:
            return label.get("type")
    return None


def load_first_sight() -> dict:
    if not FIRST_SIGHT.exists():
        return {"streams": {}}
    return YAML(typ="safe").load(FIRST_SIGHT.read_text(encoding="utf-8")) or {"streams": {}}


def name_of(stream: Path) -> str:
    """The stream's name: its path below tests/data (of whichever checkout it is in)."""
    text = stream.resolve().as_posix()
    return text.split("/tests/data/", 1)[1] if "/tests/data/" in text else stream.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("streams", type=Path, nargs="*", help="stream folders (default: every one under tests/data)")
    parser.add_argument("--mismatches", action="store_true", help="list every entry judged otherwise")
    parser.add_argument("--record-first-sight", action="store_true",
                        help="record these streams' scores as their first sight (never overwrites)")
    parser.add_argument("--held-out", action="store_true",
                        help="score the streams held out too (only at the end of a round: a look is a tuning)")
    args = parser.parse_args()
    recorded = load_first_sight()
    streams = [s.resolve() for s in args.streams] or streams_under(DATA)
    print(f"{'stream':<22} {'n':>4}  {'first sight P/R':>15}  {'now P/R':>11}  {'type':>5}  {'case':>5}  {'subj F1':>7}  {'acc':>5}  "
          f"{'alerts P/R':>10}  {'type':>5}  held out")
    for stream in streams:
        name = name_of(stream)
        meta = recorded["streams"].get(name, {})
        if meta.get("held_out") and not args.held_out:
            print(f"{name:<22} held out: not scored (--held-out at the end of a round)")
            continue
        result = score(stream)
        first = meta.get("first_sight")
        if args.record_first_sight:
            if first:
                print(f"{name}: first sight already recorded ({first}); not overwritten", file=sys.stderr)
            else:
                first = result.figures()
                meta["first_sight"] = first
                recorded["streams"][name] = meta
        first_text = f"{first['precision']:.2f}/{first['recall']:.2f}" if first else "-"
        print(f"{name:<22} {result.entries:>4}  {first_text:>15}  {result.precision:.2f}/{result.recall:.2f}  "
              f"{result.type_rate:>5.2f}  {result.case_right / (result.tp or 1):>5.2f}  {result.subject_f1:>7.2f}  "
              f"{result.accuracy:>5.2f}  {result.alert_precision:.2f}/{result.alert_recall:.2f}  "
              f"{result.alert_type_right / (result.true_alerts or 1):>5.2f}  {'yes' if meta.get('held_out') else 'no'}")
        print(f"{'':<22}       new: {result.tp} caught, {result.fp} false alerts, {result.fn} missed; "
              f"developments: {result.alerted} of {result.developments} alerted, "
              f"{result.alerts - result.true_alerts} of {result.alerts} alerts false or repeated")
        if args.mismatches:
            for key, title, expected, verdict in result.mismatches:
                print(f"    {expected:>24} -> {verdict:<24} {title[:70]}  ({key})")
    if args.record_first_sight:
        yaml = YAML()
        yaml.default_flow_style = None
        with FIRST_SIGHT.open("w", encoding="utf-8") as out:
            out.write("# First-sight scores: each stream scored before any change made for it. Never overwritten\n"
                      "# (benchmarks/quality.py --record-first-sight). held_out: scored only at the end of a round.\n")
            yaml.dump(recorded, out)


if __name__ == "__main__":
    main()
