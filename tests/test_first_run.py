"""A new user's first run (issue 14): what a fresh clone shows before any subscriber or
feed is set up. Click's CliRunner on a tmp copy of config/ and baseline/, a real SQLite file."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from monitor.cli import cli
from monitor.errors import StoreError
from monitor.store import suppressions
from monitor.store.db import open_engine

ROOT = Path(__file__).resolve().parent.parent


class Site:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        shutil.copytree(ROOT / "config", tmp / "config")
        shutil.copytree(ROOT / "baseline", tmp / "baseline")
        (tmp / "config" / "feeds.yaml").write_text("feeds: []\n")
        self.db = f"sqlite:///{tmp / 'data' / 'monitor.db'}"

    def run(self, *args: str) -> Result:
        argv = ["--config", str(self.tmp / "config"), "--baseline", str(self.tmp / "baseline"), *args]
        env = {"MONITOR_DATA_DIR": str(self.tmp / "data"), "MONITOR_DATABASE_URL": self.db}
        return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def test_tests_run_in_an_empty_folder_of_their_own() -> None:
    # A daemon run from the repository leaves data/secret behind; no test may see it.
    assert Path.cwd() != ROOT and not (Path.cwd() / "data").exists()


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"monitor {version('case-monitor')}"


def test_poll_runs_without_once(site: Site) -> None:
    result = site.run("poll")
    assert result.exit_code == 0, result.output
    assert "feeds: 0 ok" in result.output
    assert "monitor run" in site.run("poll", "--help").output  # says what keeps polling


def test_status_says_there_are_no_subscribers(site: Site) -> None:
    result = site.run("status")
    assert result.exit_code == 0, result.output
    assert "no subscribers" in result.output and "monitor subscribers add" in result.output
    site.run("subscribers", "add", "ana@example.org")
    assert "no subscribers" not in site.run("status").output


def test_scan_help_and_shipped_docs_point_only_inside_the_repository() -> None:
    assert "DESIGN.md" not in CliRunner().invoke(cli, ["scan", "--help"]).output
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"/work/|\.\./shared|DESIGN\.md")
    offenders = [
        f for f in files
        if (f.endswith((".md", ".yaml")) or f.startswith("monitor/"))
        and outside.search((ROOT / f).read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_db_upgrade_current_history(site: Site) -> None:
    current = site.run("db", "current")
    assert current.exit_code == 0 and "no schema yet" in current.output
    upgraded = site.run("db", "upgrade")
    assert upgraded.exit_code == 0 and "upgraded from an empty database to 0005" in upgraded.output
    assert "already at 0005" in site.run("db", "upgrade").output
    assert "(head)" in site.run("db", "current").output
    history = site.run("db", "history")
    assert history.exit_code == 0 and "<base> -> 0001" in history.output


def test_the_store_hint_names_a_command_that_exists(site: Site) -> None:
    hint = StoreError("x").hint or ""
    for command in re.findall(r"'(monitor [a-z ]+)'", hint):
        words = command.split()[1:]
        result = site.run(*words, "--help")
        assert result.exit_code == 0, f"{command}: {result.output}"


def test_subscribers_unsuppress(site: Site) -> None:
    site.run("subscribers", "add", "ana@example.org")
    site.run("db", "upgrade")
    engine = open_engine(site.db)
    try:
        suppressions.suppress(engine, "ana@example.org", "unsubscribe", "", datetime.now(UTC))
    finally:
        engine.dispose()
    assert "SUPPRESSED" in site.run("subscribers", "list").output
    lifted = site.run("subscribers", "unsuppress", "Ana@example.org")
    assert lifted.exit_code == 0 and "unsuppressed" in lifted.output
    assert "SUPPRESSED" not in site.run("subscribers", "list").output
    again = site.run("subscribers", "unsuppress", "ana@example.org")
    assert again.exit_code == 1 and "not on the suppression list" in again.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["not-an-email"], "EMAIL"),
        (["ana@example.org", "--timezone", "Mars/Olympus"], "--timezone"),
        (["ana@example.org", "--at", "25:99"], "--at"),
        (["ana@example.org", "--case", "no-such-case"], "--case"),
        (["ana@example.org", "--watchlist", "nowhere"], "--watchlist"),
    ],
)
def test_bad_arguments_to_subscribers_add_are_bad_arguments(site: Site, args: list[str], option: str) -> None:
    before = (site.tmp / "config" / "subscribers.yaml").read_text()
    result = site.run("subscribers", "add", *args)
    assert result.exit_code == 2
    assert "Invalid value" in result.output and option in result.output
    assert "subscribers.yaml" not in result.output
    assert (site.tmp / "config" / "subscribers.yaml").read_text() == before


def test_docker_compose_binds_to_loopback_and_works_with_older_compose() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    compose = YAML(typ="safe").load(text)
    assert "name" not in compose
    ports = [p for service in compose["services"].values() for p in service.get("ports", [])]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports)
    assert "Compose v2" in text


def test_ci_runs_the_readme_commands_in_the_readme_order() -> None:
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    assert "monitor run" in text and "-m pytest" in text
    assert text.index("monitor run") < text.index("-m pytest")
