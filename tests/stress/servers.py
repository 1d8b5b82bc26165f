"""Serving the app for real, for tests that TestClient cannot do (it runs one request at a
time): a throwaway database of the suite's kind, migrated and seeded with committed
transactions, and uvicorn processes on 127.0.0.1 over it.

Every wait is bounded and every server is stopped (or killed) on the way out.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import httpx2
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core import migrations
from app.core.config import get_settings
from app.core.db import create_db_engine
from tests import database

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 30.0
T = TypeVar("T")


@contextmanager
def throwaway_database(label: str) -> Iterator[tuple[str, Engine]]:
    """A fresh database of the suite's kind (TEST_DB), migrated to head; dropped afterwards."""
    url = database.create(label)
    engine = create_db_engine(url)
    try:
        migrations.upgrade(url)
        yield url, engine
    finally:
        engine.dispose()
        database.drop(url)


def seed(engine: Engine, build: Callable[[Session], T]) -> T:
    """Runs a builder and commits, so the servers see its rows."""
    with Session(engine, expire_on_commit=False) as session:
        built = build(session)
        session.commit()
    return built


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One uvicorn process serving `create_app()` over `database_url` on a loopback port."""

    database_url: str
    log: IO[bytes]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REHAB_ENV": "test",
            "REHAB_SECRET_KEY": get_settings().secret_key,
            "REHAB_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"uvicorn exited with {self.process.returncode}: {self.output()}")
            try:
                if httpx2.get(f"{self.base}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"uvicorn on {self.base} was not ready within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback, no flush; whatever was in flight is cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@dataclass(frozen=True)
class Cluster:
    """Servers over one database, and an engine to seed and inspect it directly."""

    engine: Engine
    bases: list[str]


@contextmanager
def serve(database_url: str, count: int) -> Iterator[list[Server]]:
    """`count` servers over one database, started together; stopped whatever happens."""
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            log = stack.enter_context(tempfile.TemporaryFile())
            server = Server(database_url, log)
            stack.callback(server.stop)
            server.start()
            servers.append(server)
        for server in servers:
            server.wait_ready()
        yield servers


def in_threads(calls: Sequence[Callable[[httpx2.Client], T]], threads: int) -> list[T]:
    """Runs every call on a pool of `threads` threads, each with its own connection; all
    threads start together. Answers come back in the order of `calls`."""
    assert len(calls) >= threads, "every thread needs a call, or the start barrier never opens"
    barrier = threading.Barrier(threads)
    local = threading.local()

    def client() -> httpx2.Client:
        if not hasattr(local, "client"):
            local.client = httpx2.Client(timeout=REQUEST_TIMEOUT_S)
            clients.append(local.client)
            barrier.wait(timeout=REQUEST_TIMEOUT_S)
        found: httpx2.Client = local.client
        return found

    def run(call: Callable[[httpx2.Client], T]) -> T:
        return call(client())

    clients: list[httpx2.Client] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(run, call) for call in calls]
        try:
            return [f.result(timeout=REQUEST_TIMEOUT_S * 4) for f in futures]
        finally:
            for open_client in clients:
                open_client.close()


def assert_no_failures(answers: Sequence[httpx2.Response]) -> None:
    """No client ever sees a 5xx under load, nor the database's lock in a body."""
    failed = [
        f"{a.request.method} {a.request.url.path}: {a.status_code} {a.text[:200]}"
        for a in answers
        if a.status_code >= 500 or "locked" in a.text.lower()
    ]
    assert not failed, f"{len(failed)} of {len(answers)} answers failed, e.g. {failed[:2]}"
