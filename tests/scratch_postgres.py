"""A scratch schema on the PostgreSQL that CI runs on 127.0.0.1:5432 (trust auth, database
`test`), dropped afterwards; tests skip with the reason where none answers."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def scratch_schema(prefix: str) -> Iterator[str]:
    """Yield a database URL whose search_path is a fresh schema; skip the test if there is
    no usable PostgreSQL."""
    if not reachable():
        pytest.skip("no PostgreSQL listening on 127.0.0.1:5432")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:  # reachable but not the CI database: skip, do not fail
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 not usable: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
