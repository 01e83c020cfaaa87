"""The operator's feed-health mail: one plain-text email listing the feeds that need
attention. No I/O. Feed names and errors come from config and servers: each is one clean
line, never a header break."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from monitor.model import FeedHealth

from .render import MAIL_POLICY, _recipient, _wrap, clean_line, message_id

_STATES = (("failing", "Failing"), ("gone", "Gone"), ("silent", "Silent (quiet for longer than their usual rhythm)"))


def health_subject(report: Sequence[FeedHealth]) -> str:
    """'Feed health: 3 feeds need attention (1 failing, 1 gone, 1 silent)'."""
    counts = [f"{n} {state}" for state, _ in _STATES if (n := sum(1 for h in report if h.state == state))]
    noun = "feed needs" if len(report) == 1 else "feeds need"
    return f"Feed health: {len(report)} {noun} attention ({', '.join(counts)})"


def render_health(report: Sequence[FeedHealth], *, sender: str, to: str, now: datetime,
                  instance: str = "Case monitor") -> EmailMessage:
    """The operator's mail for `report` (feeds in trouble), dated `now`."""
    lines = [f"{clean_line(instance)} · feed health, {now.astimezone(UTC):%d %B %Y %H:%M} UTC", ""]
    for state, title in _STATES:
        members = sorted((h for h in report if h.state == state), key=lambda h: h.feed.casefold())
        if not members:
            continue
        lines += [f"== {title}: {len(members)} ==", ""]
        for health in members:
            lines.append(_wrap(f"{clean_line(health.feed)}: {clean_line(health.detail)}", "    ", "  - "))
        lines.append("")
    lines += ["-- ", _wrap("`monitor status` shows every feed. This mail goes to operator_email (settings.yaml) "
                           "once a day while a feed is failing, gone or silent.")]
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = _recipient("", to)
    message["Subject"] = clean_line(health_subject(report))
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id(sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(lines) + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    return message
