"""`monitor baseline draft`: documents read by the judge's own reader, drafted into the
baseline format, checked against the hand-written baselines (the proof of issue 10)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor import draft
from monitor.cli import cli
from monitor.config import load_config
from monitor.model import EventDate, Precision

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ROOT.parent / "shared" / "baseline-documents"
BELARUS = ROOT / "tests" / "data" / "families" / "belarus"
# The two shipped documents whose text states no date, dated as the hand-written
# baseline's sources.yaml dates them (from their URLs), for the second figure.
GIVEN = {"000_19d943239cb42b9d.txt": EventDate(date(2021, 9, 24)), "004_fcf4fcd8e1c12d88.txt": EventDate(date(2018, 8, 28))}


def _figures(config_dir: Path, baseline_dir: Path, documents: Path, given=None) -> tuple[int, int, int, int]:
    config = load_config(config_dir, baseline_dir)
    docs, failures = draft.read_documents([str(documents)], lambda url: (b"", {}), lambda m: None, given)
    assert not failures
    result = draft.Drafter(config.subjects, config.cases).draft(docs)
    return draft.recall(result, config.cases)


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"MONITOR_DATA_DIR": str(tmp_path / "data")}, catch_exceptions=False)


@pytest.mark.skipif(not DOCUMENTS.is_dir(), reason="shared/baseline-documents not beside the repository")
def test_the_five_shipped_documents_against_the_hand_written_baseline() -> None:
    # Measured figures, pinned (issue 10 asks >= 90% recall and <= 1 extra in 5; not reached:
    # many hand-written events carry public-record dates the documents never state).
    held, total, extra, drafted = _figures(ROOT / "config", ROOT / "baseline", DOCUMENTS)
    assert total == 40
    assert held >= 17, f"recall {held}/{total}"
    assert extra <= 3 and drafted >= 20, f"extra {extra}/{drafted}"  # 3 in 20: within 1 in 5
    # With the two undated documents given their dates (--date), as the hand-written baseline dated them.
    held, total, extra, drafted = _figures(ROOT / "config", ROOT / "baseline", DOCUMENTS, GIVEN)
    assert held >= 22, f"recall {held}/{total}"
    assert extra <= 9 and drafted >= 29, f"extra {extra}/{drafted}"


def test_a_second_family_belarus_background_against_its_hand_written_baseline() -> None:
    # Measured, pinned: with the Russian pack the Russian document is read too (5 of 19,
    # was 3 without it), but half of what it drafts is not in the hand-written baseline;
    # Belarusian has no pack yet. Far from the target (>= 90%, <= 1 extra in 5).
    held, total, extra, drafted = _figures(BELARUS / "config", BELARUS / "baseline", BELARUS / "background")
    assert total == 19
    assert held >= 5, f"recall {held}/{total}"
    assert extra <= 5 and drafted >= 10, f"extra {extra}/{drafted}"


CASE_DOC = """Kem Sokha granted bail by Phnom Penh court

PHNOM PENH, 14 March 2023 - The Phnom Penh court on Monday granted bail to Kem Sokha, who
was arrested for treason on 3 September 2017.

Lawyer Sok Dara said the treason case had dragged on. Sok Dara said the treason charge
should never have been brought.
"""


def test_draft_writes_a_baseline_that_config_check_accepts(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "bail.txt").write_text(CASE_DOC, encoding="utf-8")
    out = tmp_path / "draft"
    result = run(tmp_path, "--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
                 "baseline", "draft", str(tmp_path / "docs"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Sok Dara (2)" in result.output  # a candidate subject, listed, not added
    case = (out / "cases" / "kem-sokha-treason.yaml").read_text(encoding="utf-8")
    assert "date: 2023-03-13\n    type: bail" in case  # "on Monday", resolved against the dateline
    assert "date: 2017-09-03\n    type: arrest" in case
    assert '# doc-001: "PHNOM PENH, 14 March 2023 - The Phnom Penh court on Monday granted bail to Kem Sokha' in case
    assert "summary: 'Kem Sokha: released on bail, on 13 March 2023 (Kem Sokha treason case).'" in case
    sources = (out / "sources.yaml").read_text(encoding="utf-8")
    assert "title: Kem Sokha granted bail by Phnom Penh court" in sources and "date: 2023-03-14" in sources
    assert "Sok Dara" not in (ROOT / "config" / "watchlists" / "cambodia.yaml").read_text(encoding="utf-8")
    assert "name: Sok Dara" in (out / "candidate-subjects.yaml").read_text(encoding="utf-8")
    check = run(tmp_path, "--config", str(ROOT / "config"), "--baseline", str(out), "config", "check")
    assert check.exit_code == 0, check.output
    # Never overwrites.
    again = run(tmp_path, "--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
                "baseline", "draft", str(tmp_path / "docs"), "--out", str(out))
    assert again.exit_code == 1 and "never overwrites" in again.output


def test_diff_against_the_existing_baseline(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("# Kem Sokha: the story so far\n\n**Date:** 2023-03-14\n\n" + CASE_DOC.split("\n", 2)[2]
                   + "\nKem Sokha's trial opened on 2 February 2020. Kem Sokha was acquitted on 10 March 2023.\n",
                   encoding="utf-8")
    result = run(tmp_path, "--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
                 "baseline", "draft", str(doc), "--diff")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("there") and "2017-09-03 arrest" in line for line in lines)  # in the baseline
    assert any(line.startswith("new") and "2023-03-10 acquittal" in line for line in lines)
    # Same case and type, another date: for a person to decide (here a second bail, years later).
    assert any(line.startswith("conflict") and "2023-03-13 bail" in line for line in lines)
    assert any(line.startswith("conflict") and "2020-02-02 trial_opened" in line and "2020-01-15" in line for line in lines)
    assert not (tmp_path / "baseline-draft").exists()


def test_a_document_without_a_date_resolves_no_relative_date() -> None:
    doc = draft.make_document("doc-001", "x.txt", "Kem Sokha was arrested on Friday.\n\nKem Sokha was charged in March 2018.\n")
    assert doc.date is None
    config = load_config(ROOT / "config", ROOT / "baseline")
    events, skipped = draft.Drafter(config.subjects, config.cases).read(doc)
    assert [(e.type, str(e.date)) for e in events] == [("charge", "2018-03")]
    assert skipped == 1


def test_default_out_is_a_new_folder(tmp_path: Path) -> None:
    first = draft.default_out(tmp_path, date(2024, 1, 2))
    assert first.name == "baseline-draft-2024-01-02"
    first.mkdir()
    assert draft.default_out(tmp_path, date(2024, 1, 2)).name == "baseline-draft-2024-01-02-2"


def _pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text (enough for a text extractor)."""
    stream = f"BT /F1 12 Tf 40 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_pdf_html_and_url_documents(tmp_path: Path, feed_server) -> None:
    (tmp_path / "a.pdf").write_bytes(_pdf("Kem Sokha was arrested on 3 September 2017."))
    feed_server.add("/story.html", "<html><head><title>Kem Sokha trial opens</title></head><body>"
                    "<h1>Kem Sokha trial opens</h1><p>15 January 2020</p><p>The treason trial of Kem Sokha opened "
                    "on 15 January 2020 in Phnom Penh.</p></body></html>", content_type="text/html")
    config = load_config(ROOT / "config", ROOT / "baseline")
    from monitor.cli._common import url_reader

    docs, failures = draft.read_documents([str(tmp_path / "a.pdf"), feed_server.url("/story.html")],
                                          url_reader(config), lambda m: None)
    assert not failures
    assert docs[1].title == "Kem Sokha trial opens" and docs[1].date == EventDate(date(2020, 1, 15))
    result = draft.Drafter(config.subjects, config.cases).draft(docs)
    got = {(e.type, str(e.date)) for e in result.all_events}
    assert {("arrest", "2017-09-03"), ("trial_opened", "2020-01-15")} <= got
    assert EventDate(date(2020, 1, 15)).precision is Precision.DAY
