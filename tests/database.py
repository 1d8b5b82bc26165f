"""The throwaway test database: a temporary SQLite file, or a fresh PostgreSQL database.

TEST_DB picks it (`sqlite`, the default, or `postgres`); TEST_POSTGRES_URL names the server.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def kind() -> str:
    return os.environ.get("TEST_DB", "sqlite")


def postgres_server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _with_database(server_url: str, name: str) -> str:
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


def create(label: str = "rehab_test") -> str:
    """Creates an empty database and returns its URL."""
    if kind() == "postgres":
        name = f"{label}_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(postgres_server_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return _with_database(postgres_server_url(), name)
    folder = Path(tempfile.mkdtemp(prefix=f"{label}_"))
    return f"sqlite:///{folder / 'test.db'}"


def drop(url: str) -> None:
    if kind() == "postgres":
        name = url.rpartition("/")[2]
        with psycopg.connect(postgres_server_url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        return
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.rmdir()


def postgres_answers() -> bool:
    try:
        with psycopg.connect(postgres_server_url(), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


if __name__ == "__main__":
    # `python -m tests.database`: exit 0 when the test PostgreSQL answers (used by make test).
    raise SystemExit(0 if postgres_answers() else 1)
