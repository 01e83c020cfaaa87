"""Digest rendering: structure, headers, order, sources, context, and untrusted feed text."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from jinja2 import Environment, PackageLoader

from monitor.digest.render import (
    SUBJECT_MAX,
    format_event_date,
    make_environment,
    render_digest,
    safe_href,
    subject_line,
    type_in_words,
)
from monitor.digest.sample import (
    KHMER,
    SENDER,
    UNSUBSCRIBE,
    activists_bail,
    at,
    kem_sokha_conviction,
    make_digest,
)
from monitor.model import Digest, EventDate, KnownEvent, Precision, Report


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def flat(body: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- Structure ---


def test_multipart_alternative_with_plain_text_then_html_in_utf8(sample_digest: Digest) -> None:
    message = reparse(render_digest(sample_digest, sender=SENDER))
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())


def test_khmer_text_survives_the_wire_in_both_parts() -> None:
    digest = make_digest(kem_sokha_conviction(summary=f"{KHMER} ត្រូវបានផ្ដន្ទាទោស"))
    text, html = parts(reparse(render_digest(digest, sender=SENDER)))
    assert f"{KHMER} ត្រូវបានផ្ដន្ទាទោស" in text
    assert f"{KHMER} ត្រូវបានផ្ដន្ទាទោស" in html
    assert f"{KHMER} ត្រូវបានកាត់ទោស" in text  # a report title


def test_lines_on_the_wire_stay_under_the_smtp_limit() -> None:
    long_summary = "word " * 600
    raw = render_digest(make_digest(kem_sokha_conviction(summary=long_summary)), sender=SENDER)
    assert max(len(line) for line in raw.as_bytes(policy=policy.SMTP).split(b"\r\n")) <= 998


def test_plain_text_has_no_markup() -> None:
    text, _ = parts(
        render_digest(make_digest(activists_bail(), kem_sokha_conviction()), sender=SENDER)
    )
    assert not re.search(r"</?(p|a|div|span|h\d|ul|li|table)\b", text)
    assert "&amp;" not in text and "&lt;" not in text


def test_html_has_inlined_css_a_phone_width_container_and_no_external_resources(sample_digest: Digest) -> None:
    _, html = parts(render_digest(sample_digest, sender=SENDER))
    assert re.search(r'<div class="container" style="[^"]*max-width: 600px', html)
    assert "@media" in html  # the <style> block stays for clients that read media queries
    assert '<meta name="viewport"' in html
    sizes = [int(n) for n in re.findall(r"font-size: (\d+)px", html)]
    assert sizes and min(sizes) >= 15
    for banned in ("<script", "<img", "<link", "<iframe", "src=", "@import", "url("):
        assert banned not in html.lower()


# --- Headers ---


def test_headers_from_to_date_and_auto_submitted(sample_digest: Digest) -> None:
    message = reparse(render_digest(sample_digest, sender=SENDER))
    assert message["From"] == SENDER
    assert message["To"] == "Ana Researcher <ana@example.org>"
    assert message["Date"] == "Fri, 03 Mar 2023 18:00:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"


def test_subject_for_one_development_says_who_what_and_how(sample_digest: Digest) -> None:
    message = render_digest(sample_digest, sender=SENDER)
    assert message["Subject"] == "Kem Sokha: convicted — sentenced to 27 years of house arrest"


def test_subject_for_several_developments_names_the_newest() -> None:
    third = activists_bail(development_id=3, case_id="x", case_title="X", type="arrest",
                           people=("Theary Seng",), date=EventDate(date(2023, 1, 5)))  # fmt: skip
    subject = subject_line((activists_bail(), kem_sokha_conviction(), third))
    assert (
        subject
        == "3 developments: Kem Sokha convicted, Sun Thun released on bail and Theary Seng arrested"
    )


def test_subject_stays_short_and_says_how_many_more() -> None:
    many = tuple(
        activists_bail(development_id=i, people=(f"Long Name Number {i} of the Activists",))
        for i in range(10, 18)
    )
    subject = subject_line((kem_sokha_conviction(), *many))
    assert len(subject) <= SUBJECT_MAX
    assert subject.startswith("9 developments: Kem Sokha convicted")
    assert re.search(r"and \d more$", subject)


def test_subject_shortens_a_long_summary_at_a_word() -> None:
    subject = subject_line((kem_sokha_conviction(summary="Kem Sokha " + "sentenced again " * 20),))
    assert len(subject) <= SUBJECT_MAX
    assert subject.endswith("…") and "sentenced again…" in subject


@pytest.mark.parametrize(
    ("type_", "words"),
    [
        ("conviction", "convicted"),
        ("bail", "released on bail"),
        ("trial_resumed", "trial resumed"),
        ("charges_dropped", "charges dropped"),
        ("appeal_ruling", "appeal ruling"),
        ("arrest", "arrested"),
        ("something_new", "something new"),
    ],
)
def test_types_in_words(type_: str, words: str) -> None:
    assert type_in_words(type_) == words


def test_message_id_is_unique_per_digest(sample_digest: Digest) -> None:
    # Issue 14: an ID from (subscriber, period) alone came back for new content after the
    # database was rebuilt, and clients that drop repeated IDs hid it. Delivery stores the
    # ID at claim, so a resend of one digest keeps its ID (test_delivery).
    first = render_digest(sample_digest, sender=SENDER)["Message-ID"]
    again = render_digest(make_digest(activists_bail()), sender=SENDER)["Message-ID"]
    assert first != again
    assert re.fullmatch(r"<digest-[0-9a-f]{24}@example\.org>", first)


def test_list_unsubscribe_with_one_click_post(sample_digest: Digest) -> None:
    message = reparse(render_digest(sample_digest, sender=SENDER))
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_list_unsubscribe_header_may_point_at_a_separate_one_click_endpoint(sample_digest: Digest) -> None:
    post_url = "https://monitor.example.org/one-click?token=abc123"
    message = render_digest(sample_digest, sender=SENDER, list_unsubscribe_post_url=post_url)
    assert message["List-Unsubscribe"] == f"<{post_url}>"
    text, html = parts(message)
    assert UNSUBSCRIBE in text and UNSUBSCRIBE.replace("&", "&amp;") in html


def test_no_list_unsubscribe_headers_without_an_unsubscribe_url() -> None:
    message = render_digest(make_digest(unsubscribe_url=""), sender=SENDER)
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


def test_one_click_post_only_for_https() -> None:
    message = render_digest(make_digest(unsubscribe_url="http://localhost/u?t=1"), sender=SENDER)
    assert message["List-Unsubscribe"] == "<http://localhost/u?t=1>"
    assert message["List-Unsubscribe-Post"] is None


# --- Body: order, sources, context, coverage ---


def test_grouped_by_case_newest_case_first_and_newest_first_within() -> None:
    older_in_kem_case = kem_sokha_conviction(
        development_id=5, type="hearing", date=EventDate(date(2023, 2, 1)), summary="Closing hearing held",
        reports=(Report("VOD English", "Hearing", "https://vodenglish.news/h", at(1, 9, 2)),), context=(),
    )  # fmt: skip
    digest = make_digest(older_in_kem_case, activists_bail(), kem_sokha_conviction())
    text, html = parts(render_digest(digest, sender=SENDER))
    for body in (text, html):
        order = [
            body.index("Kem Sokha treason case"),
            body.index("Kem Sokha sentenced to 27 years"),
            body.index("Closing hearing held"),
            body.index("Activists arrested in November 2019"),
            body.index("Two activists released on bail"),
        ]
        assert order == sorted(order)
        assert body.count("Kem Sokha treason case") == 2  # once in the index, once as the heading


def test_development_shows_type_date_summary_and_people(sample_digest: Digest) -> None:
    text, html = parts(render_digest(sample_digest, sender=SENDER))
    for body in (flat(text), flat(html)):
        assert "Kem Sokha: convicted · 3 March 2023" in body  # whom, what, when
        assert "Kem Sokha sentenced to 27 years of house arrest" in body
        assert "People: Kem Sokha" in body


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (EventDate(date(2023, 3, 3)), "3 March 2023"),
        (EventDate(date(2023, 3, 1), Precision.MONTH), "March 2023"),
        (EventDate(date(2023, 1, 1), Precision.YEAR), "2023"),
    ],
)
def test_event_dates_in_words(when: EventDate, words: str) -> None:
    assert format_event_date(when) == words


def test_every_outlet_is_listed_first_reporter_first_with_links(sample_digest: Digest) -> None:
    text, html = parts(render_digest(sample_digest, sender=SENDER))
    for body in (text, html):
        positions = [
            body.index(o) for o in ("First reported by", "VOD English", "RFA Khmer", "The Guardian")
        ]
        assert positions == sorted(positions)
    assert '<a class="outlet" href="https://vodenglish.news/a"' in html
    assert '<a class="outlet" href="https://theguardian.com/c"' in html
    assert "https://www.rfa.org/b" in text


def test_context_shows_the_last_three_known_events_newest_first(sample_digest: Digest) -> None:
    text, html = parts(render_digest(sample_digest, sender=SENDER))
    for body in (text, html):
        assert "Earlier in this case" in body
        shown = ["Trial resumes after suspension", "Treason trial opens", "Moved to house arrest"]
        assert [body.index(s) for s in shown] == sorted(body.index(s) for s in shown)
        assert "January 2022" in body and "15 January 2020" in body
        assert "Arrested in a midnight raid" not in body  # the fourth, oldest one


def test_coverage_section_only_when_the_subscriber_asked_and_there_is_some() -> None:
    coverage = (
        Report("Khmer Times", "Explainer: the CNRP cases", "https://khmertimeskh.com/e", None),
    )
    asked = parts(render_digest(make_digest(coverage=coverage, wants_coverage=True), sender=SENDER))
    not_asked = parts(
        render_digest(make_digest(coverage=coverage, wants_coverage=False), sender=SENDER)
    )
    none_found = parts(render_digest(make_digest(wants_coverage=True), sender=SENDER))
    for body in asked:
        assert "Coverage" in body and "Explainer: the CNRP cases" in body
    for body in (*not_asked, *none_found):
        assert "Coverage" not in body and "Explainer" not in body


def test_footer_says_why_and_links_to_unsubscribe(sample_digest: Digest) -> None:
    text, html = parts(render_digest(sample_digest, sender=SENDER))
    assert "because you follow the watchlist cnrp" in flat(text)
    assert "because you follow the watchlist cnrp" in flat(html)
    assert f"Unsubscribe: {UNSUBSCRIBE}" in text
    assert f'href="{UNSUBSCRIBE}"' in html


# --- Untrusted text from feeds ---

SCRIPT = "<script>alert('x')</script>"
IMG = "<img src=x onerror=alert(1)>"


def test_markup_in_feed_text_is_escaped_in_html() -> None:
    hostile = kem_sokha_conviction(
        case_title=f"Case {SCRIPT}",
        summary=f"Sentenced {IMG}",
        people=(f"Kem {SCRIPT}",),
        reports=(Report(f"Outlet {IMG}", f"Title {SCRIPT}", "https://example.com/a", None),),
        context=(
            KnownEvent("kem-sokha-treason", "arrest", EventDate(date(2017, 9, 3)), f"Raid {IMG}"),
        ),
    )
    _, html = parts(render_digest(make_digest(hostile), sender=SENDER))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_autoescape_holds_even_with_an_environment_that_disables_it() -> None:
    env = Environment(loader=PackageLoader("monitor.digest", "templates"), autoescape=False)
    hostile = kem_sokha_conviction(summary=f"Sentenced {SCRIPT}")
    _, html = parts(render_digest(make_digest(hostile), sender=SENDER, env=env))
    assert "<script" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>",
     "mailto:someone@example.org", "vbscript:x", "//evil.example/x", "/relative", "http://"],
)  # fmt: skip
def test_only_http_links_become_links(link: str) -> None:
    report = Report("Shady Outlet", "Something", link, None)
    digest = make_digest(kem_sokha_conviction(reports=(report,)))
    text, html = parts(render_digest(digest, sender=SENDER))
    assert safe_href(link) == ""
    assert 'href="' + link.strip() not in html
    assert "javascript:" not in html.lower() and "data:text" not in html
    assert '<span class="outlet"' in html and "Shady Outlet" in html  # shown, but as text
    assert (
        "Shady Outlet" in text
        and link.strip() not in text.split("Shady Outlet")[1].split("\n\n")[0]
    )


def test_crlf_in_feed_text_adds_no_headers() -> None:
    injection = "\r\nBcc: victim@example.net\r\nX-Injected: yes"
    hostile = kem_sokha_conviction(
        case_title=f"Case{injection}", summary=f"Sentenced{injection}", people=(f"Kem Sokha{injection}",),
    )  # fmt: skip
    message = render_digest(make_digest(hostile, name=f"Ana{injection}"), sender=SENDER)
    parsed = reparse(message)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]
    assert parsed["Subject"].startswith("Kem Sokha Bcc: victim@example.net")
    assert parsed["To"].addresses[0].addr_spec == "ana@example.org"
    assert len(parsed["To"].addresses) == 1
    head = message.as_bytes(policy=policy.SMTP).split(b"\r\n\r\n")[0]
    assert not re.search(rb"^(Bcc|X-Injected):", head, re.MULTILINE | re.IGNORECASE)


def test_control_and_bidi_characters_are_stripped_from_the_subject() -> None:
    hostile = kem_sokha_conviction(
        people=("Kem\x00 Sokha\u202e",), summary="sentenced\x1b[31m\tnow"
    )
    subject = render_digest(make_digest(hostile), sender=SENDER)["Subject"]
    assert not re.search(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", subject)
    assert subject == "Kem Sokha: convicted — sentenced [31m now"


def test_a_caller_environment_is_accepted(sample_digest: Digest) -> None:
    message = render_digest(sample_digest, sender=SENDER, env=make_environment())
    assert message["Subject"].startswith("Kem Sokha: convicted")


def test_a_long_unsubscribe_url_stays_a_plain_header_on_the_wire(sample_digest: Digest) -> None:
    # Mail clients read RFC 2369 headers raw: an encoded word (=?utf-8?q?...) breaks them.
    long_url = "https://monitor.example.org/unsubscribe?token=" + "A1b2C3d4" * 12
    digest = replace(sample_digest, unsubscribe_url=long_url)
    raw = render_digest(digest, sender=SENDER).as_bytes()
    assert f"List-Unsubscribe: <{long_url}>\r\n".encode() in raw
    assert b"=?utf-8?" not in raw.split(b"\r\n\r\n", 1)[0].split(b"List-Unsubscribe:", 1)[1].split(b"\r\n")[0]


def test_every_digest_opens_with_an_index(sample_digest: Digest) -> None:
    # Issue 14: a first poll's backlog made a 15-page digest with no overview.
    digest = make_digest(activists_bail())
    message = reparse(render_digest(digest, sender=SENDER))
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "In this digest:" in text
    index = text[text.index("In this digest:"):text.index("==")]
    for d in digest.developments:
        assert d.case_title in index
    assert index.count("·") >= len(digest.developments)
    assert "In this digest" in html and 'href="#case-1"' in html and 'id="case-1"' in html
