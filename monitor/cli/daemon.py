"""`monitor run|poll|status|feeds test`: the commands that poll feeds."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor import fetch, pipeline
from monitor.cli._common import State, reports_errors, user_agent
from monitor.config import Config
from monitor.config.values import format_interval
from monitor.daemon import NO_SUBSCRIBERS, Daemon, build_context, heartbeat_every, open_store
from monitor.errors import MonitorError
from monitor.judge.order import publication_order, unique_entries
from monitor.logs import setup_logging
from monitor.memory import load_judge
from monitor.operator import feed_health
from monitor.parse import parse_feed
from monitor.store import daemons as daemon_store
from monitor.store import feeds as feed_store
from monitor.store.db import is_current, open_engine, upgrade
from monitor.store.digests import digest_health
from monitor.store.judgements import seed_baseline, stored_judgements


@click.command("run")
@click.pass_obj
@reports_errors
def run_command(state: State) -> None:
    """Poll every enabled feed on its schedule until SIGTERM or Ctrl-C.

    Editing config/ or baseline/ takes effect without a restart; a config that fails
    validation is refused (logged with file, line and reason) and the running one stays.
    """
    setup_logging(state.verbose)
    config = state.config
    sys.exit(asyncio.run(Daemon(config, user_agent(config)).run()))


@click.command("poll")
@click.option("--once", is_flag=True, hidden=True, help="Accepted for compatibility: poll always polls once.")
@click.pass_obj
@reports_errors
def poll_command(state: State, once: bool) -> None:
    """Poll every enabled feed once (the daemon's code path), print a summary, exit.

    To keep polling on each feed's schedule, run the daemon: `monitor run`.
    """
    config = state.config
    engine = open_store(config)
    try:
        now = datetime.now(UTC)
        feed_store.sync_feeds(engine, config.feeds, now)
        # A server's Retry-After (429, 503) is honoured here as by the daemon: such a feed
        # waits until the time it was given.
        enabled = {f.name for f in config.feeds if f.enabled}
        waiting = {
            s.name: s.next_poll_at for s in feed_store.feed_states(engine)
            if s.name in enabled and s.last_status == "retry_later" and s.next_poll_at is not None and s.next_poll_at > now
        }
        names = [f.name for f in config.feeds if f.enabled and f.name not in waiting]
        for name, until in waiting.items():
            click.echo(f"waiting: {name}: the server asked to retry after {_when(until)} UTC", err=True)

        async def go(advance) -> list[pipeline.PollOutcome]:
            # The daemon's context and round (parse workers, bulk state reads, batched 304s).
            async with build_context(config, engine, user_agent(config)) as ctx:
                return await pipeline.poll_all(ctx, datetime.now(UTC), names, on_done=advance)

        if sys.stderr.isatty():
            with click.progressbar(length=len(names), label="polling", file=sys.stderr) as bar:
                outcomes = asyncio.run(go(lambda _outcome: bar.update(1)))
        else:
            outcomes = asyncio.run(go(None))
    finally:
        engine.dispose()
    for outcome in outcomes:
        if outcome.status == "failed":
            click.echo(f"failed: {outcome.feed}: {outcome.kind}: {outcome.error}", err=True)
        elif outcome.status == "gone":
            click.echo(f"gone: {outcome.feed}: {outcome.error} (feed disabled)", err=True)
    s = pipeline.summarize(outcomes)
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(s.verdicts.items())) or "none"
    click.echo(
        f"feeds: {s.ok} ok, {s.not_modified} not modified, {s.failed} failed"
        + (f", {s.gone} gone" if s.gone else "")
        + (f", {s.skipped} skipped" if s.skipped else "")
        + (f", {len(waiting)} waiting (Retry-After)" if waiting else "")
    )
    click.echo(f"new entries: {s.new_entries} (verdicts: {verdicts})")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@click.command("status")
@click.option("--check", is_flag=True, help="Exit 1 when a feed or a digest is failing (for cron and monitoring).")
@click.pass_obj
@reports_errors
def status_command(state: State, check: bool) -> None:
    """Per feed: last success, last error, next poll, entries stored; then totals and digests.

    With --check, the exit status is 1 when an enabled feed is failing or was disabled by
    its server (410), or a digest is stuck or failed; else 0.
    """
    config = state.config
    engine = open_engine(config.settings.database_url)
    try:
        upgrade(engine)
        rows = {s.name: s for s in feed_store.feed_states(engine)}
        counts = feed_store.entry_counts(engine)
        mail = digest_health(engine)
        troubles = {h.feed: h for h in feed_health(engine, config, datetime.now(UTC))}
        running = daemon_store.listed(engine)
        queue = daemon_store.queue_health(engine, config.settings.stalled_after)
    finally:
        engine.dispose()
    failing = disabled = 0
    for feed in config.feeds:
        row = rows.get(feed.name)
        stored = counts.get(feed.name, 0)
        if not feed.enabled or (row is not None and row.disabled_reason):
            disabled += 1
        if row is None:
            click.echo(f"{feed.name}: never polled" + ("" if feed.enabled else " (disabled in feeds.yaml)"))
            continue
        flags = []
        if not feed.enabled:
            flags.append("disabled in feeds.yaml")
        if row.disabled_reason:
            flags.append(f"disabled: {row.disabled_reason}")
            if feed.enabled:
                failing += 1
        elif row.error_count and feed.enabled:
            failing += 1
        click.echo(f"{feed.name}{' (' + '; '.join(flags) + ')' if flags else ''}")
        click.echo(f"  url: {row.url}")
        if row.moved:
            click.echo(f"  moved permanently from {row.configured_url}: update its url in feeds.yaml")
        click.echo(f"  last success: {_when(row.last_success_at)} ({row.last_status or '-'})")
        if row.last_error:
            click.echo(f"  last error: {_when(row.last_error_at)} x{row.error_count}: {row.last_error}")
        if row.problem:
            click.echo(f"  problem: {row.problem}")
        click.echo(f"  next poll: {_when(row.next_poll_at) if not row.disabled_reason else '-'}; entries: {stored}")
        trouble = troubles.get(feed.name)
        if trouble is not None and trouble.state != "gone":  # gone: said above
            click.echo(f"  health: {trouble.detail}")
    click.echo(
        f"total: {len(config.feeds)} feeds, {failing} failing, {disabled} disabled, "
        f"{sum(counts.values())} entries stored"
    )
    long_failing = sum(1 for t in troubles.values() if t.state == "failing")
    silent = sum(1 for t in troubles.values() if t.state == "silent")
    after = format_interval(config.settings.feed_failing_after)
    to = (f"mailed daily to {config.settings.operator_email}" if config.settings.operator_email
          else "set operator_email in settings.yaml to have it mailed")
    click.echo(f"feed health: {long_failing} failing for {after} or more, {silent} silent past their usual rhythm; {to}")
    click.echo(f"digests: {mail.pending} pending, {mail.stuck} stuck (sending failed, retrying), {mail.failed} failed")
    _daemons(config, running, queue)
    if not config.subscribers:
        click.echo(NO_SUBSCRIBERS)
    if check and (failing or mail.stuck or mail.failed):
        sys.exit(1)


def _daemons(config: Config, running: list[daemon_store.DaemonRow], queue: daemon_store.QueueHealth | None) -> None:
    """The daemons of this database (alive: a heartbeat within three beats), and the shared
    job queue when there is one."""
    now = datetime.now(UTC)
    alive_within = 3 * heartbeat_every(config)
    alive = [d for d in running if (now - d.beat_at).total_seconds() <= alive_within]
    silent = [d for d in running if d not in alive]
    click.echo(f"daemons: {len(alive)} alive" + (f", {len(silent)} silent (stopped without a goodbye: killed?)" if silent else ""))
    for d in running:
        age = (now - d.beat_at).total_seconds()
        state = "alive" if d in alive else "silent"
        click.echo(f"  {d.id} ({d.driver}): {state}, last beat {age:.0f} s ago, up since {_when(d.started_at)}; "
                   f"{d.polls} polls, {d.digests} digests")
    if queue is not None:
        click.echo(f"jobs: {queue.queued} queued, {queue.in_flight} in flight, {queue.stalled} stalled "
                   f"(on a daemon silent for {format_interval(config.settings.stalled_after)}; run again by the others), "
                   f"{queue.failed} failed")


@click.group("feeds")
def feeds_group() -> None:
    """Inspect configured feeds."""


@feeds_group.command("test")
@click.argument("url_or_name")
@click.pass_obj
@reports_errors
def feeds_test(state: State, url_or_name: str) -> None:
    """Fetch one feed (by name from feeds.yaml, or any URL) and show what it would yield.

    Stores nothing: entries are judged against the database in memory only.
    """
    config = state.config
    feed = next((f for f in config.feeds if f.name.casefold() == url_or_name.casefold()), None)
    url = feed.url if feed is not None else url_or_name
    name = feed.name if feed is not None else url_or_name
    if not url.startswith(("http://", "https://")):
        raise MonitorError(f"{url_or_name}: not a feed name in feeds.yaml nor an http(s) URL")

    async def get() -> fetch.FetchResult:
        async with fetch.make_client(user_agent(config), proxy=config.settings.proxy) as client:
            return await fetch.fetch_feed(client, fetch.FetchRequest(feed=name, url=url), fetch.FetchLimits(max_bytes=config.settings.max_feed_bytes))

    result = asyncio.run(get())
    if result.status == "gone":
        raise MonitorError(f"{name}: HTTP 410 Gone: the feed no longer exists", hint="remove it from feeds.yaml")
    if result.permanent_url:
        click.echo(f"moved permanently to {result.permanent_url}")
    parsed = parse_feed(result.body, source=url, feed=name, headers=dict(result.headers), language=feed.language if feed else None)
    click.echo(f"{name}: {parsed.title or '(untitled)'}: {len(parsed.entries)} entries, {len(result.body)} bytes in {result.elapsed:.2f} s")
    if parsed.problem:
        click.echo(f"problem: {parsed.problem} (entries kept)")
    # Judge against what the database knows, but never write to it.
    url = config.settings.database_url
    missing_file = url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()
    engine = open_engine("sqlite://" if missing_file else url)  # never create a database here
    try:
        if missing_file or not is_current(engine):
            engine.dispose()
            engine = open_engine("sqlite://")
            upgrade(engine)
            seed_baseline(engine, config.cases)
        judge = load_judge(engine, config.subjects, dict(config.cases), config.language_dirs)
        ordered = publication_order(unique_entries(parsed.entries))
        seen = stored_judgements(engine, (e.id for e in ordered))
    finally:
        engine.dispose()
    counts: dict[str, int] = {}
    now = datetime.now(UTC)
    for entry in ordered:
        if entry.id in seen:
            verdict = f"seen ({seen[entry.id].verdict.value})"
        else:
            verdict = judge.judge(entry, now=now)[0].verdict.value
        counts[verdict] = counts.get(verdict, 0) + 1
        date = entry.published.date().isoformat() if entry.published else "undated"
        click.echo(f"  [{verdict}] {date} {entry.title[:100]}")
    click.echo("would yield: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"))
