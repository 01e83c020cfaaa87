"""A fixed sample digest for previews, screenshots and tests.

Nothing in the monitor itself uses it. Everything here is made up but plausible, fixed to
3 March 2023, and the same on every call:

    make_digest()                       one development (Kem Sokha convicted: three outlets,
                                        one in Khmer, four earlier events) for Ana Researcher
    make_digest(dev, dev, coverage=...) the same subscriber with other developments
    kem_sokha_conviction(**changes)     that development, with fields replaced
    activists_bail(**changes)           a second development, in a second case
    preview_digest()                    both cases and a coverage link: what
                                        scripts/render_digest_png.py renders

Tests assert on these values (names, titles, links, dates): change them with the tests.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from monitor.model import (
    Digest,
    DigestDevelopment,
    EventDate,
    KnownEvent,
    Precision,
    Report,
    Subscriber,
)

__all__ = [
    "COVERAGE",
    "KHMER",
    "SENDER",
    "UNSUBSCRIBE",
    "activists_bail",
    "at",
    "kem_sokha_conviction",
    "make_digest",
    "preview_digest",
]

SENDER = "Case monitor <monitor@example.org>"
UNSUBSCRIBE = "https://monitor.example.org/unsubscribe?token=abc123"
KHMER = "កឹម សុខា"


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    """A UTC time in 2023 (March unless told)."""
    return datetime(2023, month, day, hour, tzinfo=UTC)


COVERAGE = (Report("Khmer Times", "Explainer: the CNRP cases", "https://khmertimeskh.com/e", None),)


def kem_sokha_conviction(**changes: Any) -> DigestDevelopment:
    default = DigestDevelopment(
        development_id=1,
        case_id="kem-sokha-treason",
        case_title="Kem Sokha treason case",
        type="conviction",
        date=EventDate(date(2023, 3, 3)),
        summary="Kem Sokha sentenced to 27 years of house arrest",
        people=("Kem Sokha",),
        reports=(
            Report("VOD English", "Kem Sokha sentenced", "https://vodenglish.news/a", at(3, 4)),
            Report("RFA Khmer", f"{KHMER} ត្រូវបានកាត់ទោស", "https://www.rfa.org/b", at(3, 5)),
            Report("The Guardian", "Kem Sokha gets 27 years", "https://theguardian.com/c", at(3, 8)),
        ),
        context=(
            KnownEvent("kem-sokha-treason", "arrest", EventDate(date(2017, 9, 3)), "Arrested in a midnight raid"),
            KnownEvent("kem-sokha-treason", "bail", EventDate(date(2018, 9, 10)), "Moved to house arrest"),
            KnownEvent("kem-sokha-treason", "trial_opened", EventDate(date(2020, 1, 15)), "Treason trial opens"),
            KnownEvent(
                "kem-sokha-treason", "trial_resumed",
                EventDate(date(2022, 1, 1), Precision.MONTH), "Trial resumes after suspension",
            ),
        ),
    )  # fmt: skip
    return replace(default, **changes)


def activists_bail(**changes: Any) -> DigestDevelopment:
    default = DigestDevelopment(
        development_id=2,
        case_id="nov-2019-arrests",
        case_title="Activists arrested in November 2019",
        type="bail",
        date=EventDate(date(2023, 2, 27)),
        summary="Two activists released on bail",
        people=("Sun Thun",),
        reports=(
            Report(
                "CamboJA", "Activists freed on bail", "https://cambojanews.com/d", at(27, 11, 2)
            ),
        ),
    )
    return replace(default, **changes)


def make_digest(
    *developments: DigestDevelopment,
    coverage: tuple[Report, ...] = (),
    wants_coverage: bool = False,
    unsubscribe_url: str = UNSUBSCRIBE,
    name: str = "Ana Researcher",
    email: str = "ana@example.org",
    period: str = "2023-03-03",
) -> Digest:
    """The sample digest: Kem Sokha's conviction unless other developments are given."""
    return Digest(
        subscriber=Subscriber(
            email=email, name=name, watchlists=("cnrp",), coverage=wants_coverage
        ),
        period=period,
        developments=developments or (kem_sokha_conviction(),),
        coverage=coverage,
        unsubscribe_url=unsubscribe_url,
        generated_at=at(3, 18),
    )


def preview_digest() -> Digest:
    """Everything a digest can show: two cases, three outlets, earlier events, coverage."""
    return make_digest(activists_bail(), kem_sokha_conviction(), coverage=COVERAGE, wants_coverage=True)
