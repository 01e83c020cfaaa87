"""Render a sample digest to HTML (and to PNG with headless Chromium) to eyeball its layout.

    python scripts/render_digest_png.py [OUT_DIR]     # default: /tmp/digest-preview

Writes digest.html, digest.txt, digest.eml and, when /usr/bin/chromium exists, digest.png
at phone width (420 px). Nothing here is used by the monitor itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.digest.render import render_digest
from monitor.model import (
    Digest,
    DigestDevelopment,
    EventDate,
    KnownEvent,
    Precision,
    Report,
    Subscriber,
)

CHROMIUM = Path("/usr/bin/chromium")


def sample_digest() -> Digest:
    """Kem Sokha convicted (three outlets, context), a bail in a second case, coverage."""
    kem_sokha = DigestDevelopment(
        development_id=41,
        case_id="kem-sokha-treason",
        case_title="Kem Sokha: treason case",
        type="conviction",
        date=EventDate(date(2023, 3, 3)),
        summary="Kem Sokha sentenced to 27 years of house arrest and barred from politics "
        "for conspiring with a foreign power",
        people=("Kem Sokha",),
        reports=(
            Report(
                "VOD English",
                "Kem Sokha Sentenced to 27 Years for Treason",
                "https://vodenglish.news/kem-sokha-sentenced-to-27-years/",
                datetime(2023, 3, 3, 4, 12, tzinfo=UTC),
            ),
            Report(
                "RFA Khmer",
                "កឹម សុខា ត្រូវតុលាការផ្ដន្ទាទោសដាក់ពន្ធនាគារ ២៧ឆ្នាំ",
                "https://www.rfa.org/khmer/news/politics/kem-sokha-verdict-03032023.html",
                datetime(2023, 3, 3, 5, 40, tzinfo=UTC),
            ),
            Report(
                "The Guardian",
                "Cambodian opposition leader Kem Sokha sentenced to 27 years for treason",
                "https://www.theguardian.com/world/2023/mar/03/kem-sokha-cambodia-treason",
                datetime(2023, 3, 3, 8, 2, tzinfo=UTC),
            ),
        ),
        context=(
            KnownEvent(
                "kem-sokha-treason",
                "arrest",
                EventDate(date(2017, 9, 3)),
                "Arrested at his home in Phnom Penh in a midnight raid",
            ),
            KnownEvent(
                "kem-sokha-treason",
                "trial_opened",
                EventDate(date(2020, 1, 15)),
                "Treason trial opens at Phnom Penh Municipal Court",
            ),
            KnownEvent(
                "kem-sokha-treason",
                "trial_resumed",
                EventDate(date(2022, 1, 1), Precision.MONTH),
                "Trial resumes after a two-year suspension",
            ),
        ),
    )
    activists = DigestDevelopment(
        development_id=42,
        case_id="nov-2019-return-arrests",
        case_title="Activists arrested around the planned return of 9 November 2019",
        type="bail",
        date=EventDate(date(2023, 2, 27)),
        summary="Appeal court releases two former CNRP activists on bail pending retrial",
        people=("Sun Thun", "Theary Seng"),
        reports=(
            Report(
                "CamboJA News",
                "Two opposition activists freed on bail",
                "https://cambojanews.com/two-opposition-activists-freed-on-bail/",
                datetime(2023, 2, 27, 11, 0, tzinfo=UTC),
            ),
        ),
    )
    return Digest(
        subscriber=Subscriber(
            email="researcher@example.org",
            name="Sophea Researcher",
            watchlists=("cnrp",),
            coverage=True,
        ),
        period="2023-03-03",
        developments=(activists, kem_sokha),
        coverage=(
            Report(
                "Khmer Times",
                "Explainer: what the Kem Sokha verdict means for the election",
                "https://www.khmertimeskh.com/explainer-kem-sokha-verdict/",
                datetime(2023, 3, 3, 12, 0, tzinfo=UTC),
            ),
        ),
        unsubscribe_url="https://monitor.example.org/unsubscribe?token=c2FtcGxl",
        generated_at=datetime(2023, 3, 3, 18, 0, tzinfo=UTC),
    )


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path("/tmp/digest-preview")
    out_dir.mkdir(parents=True, exist_ok=True)
    message = render_digest(sample_digest(), sender="Case monitor <monitor@example.org>")
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html_path = out_dir / "digest.html"
    html_path.write_text(html_part.get_content(), encoding="utf-8")
    (out_dir / "digest.txt").write_text(text_part.get_content(), encoding="utf-8")
    (out_dir / "digest.eml").write_bytes(message.as_bytes(policy=policy.SMTP))
    print(f"Subject: {message['Subject']}")
    print(f"wrote {html_path}")
    if not CHROMIUM.exists():
        print("no /usr/bin/chromium: skipping the PNG")
        return 0
    png_path = out_dir / "digest.png"
    profile = tempfile.mkdtemp(prefix="digest-chromium-")
    try:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=420,1600",
                f"--screenshot={png_path}",
                html_path.resolve().as_uri(),
            ],
            check=True,
            timeout=120,
            capture_output=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(f"wrote {png_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
