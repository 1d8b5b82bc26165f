"""What every benchmark here shares: servers on loopback started and always stopped, wrk
driven with a timeout and its output parsed, machine facts, and markdown tables."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"  # loopback only, always
PACKAGES = (
    "fastapi starlette pydantic sqlalchemy uvicorn psycopg asyncpg aiosqlite uvloop httptools"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_command(target: str, port: int, workers: int) -> list[str]:
    """uvicorn on loopback with the production shape: no access log, uvloop and httptools
    when installed (as `rehab serve` picks them), `workers` processes."""
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", HOST]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--log-level", "warning"]
    if importlib.util.find_spec("uvloop"):
        command += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        command += ["--http", "httptools"]
    return command


def rehab_serve_command(port: int, workers: int) -> list[str]:
    """The app exactly as operators start it: `rehab serve` (no access log by default)."""
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
    return [*command, "--workers", str(workers)]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "GET",
    body: bytes | None = None,
    timeout: float = 30,
) -> Answer:
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers.items()), error.read())


def wait_until_serving(server: subprocess.Popen[bytes], port: int, limit_s: float = 30) -> None:
    """Until the port accepts a connection; fails if the server exits first."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not listen within {limit_s:.0f} s")


def _cpu_ticks(pid: int) -> int:
    """CPU time (clock ticks) of the process and its children, live ones included."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def wait_idle(server: subprocess.Popen[bytes], limit_s: float = 180) -> float:
    """Until the server (and its workers) use next to no CPU: requests that wrk gave up on
    are still being served after it exits, and must not be counted in the next run. Returns
    the seconds waited."""
    began = time.monotonic()
    hz = os.sysconf("SC_CLK_TCK")
    quiet = 0
    last = _cpu_ticks(server.pid)
    while time.monotonic() - began < limit_s and server.poll() is None:
        time.sleep(0.25)
        now = _cpu_ticks(server.pid)
        quiet = quiet + 1 if (now - last) / hz < 0.25 * 0.1 else 0  # under 10 % of a core
        last = now
        if quiet >= 2:
            break
    return time.monotonic() - began


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to our own server process (uvicorn's supervisor stops its workers), then KILL."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def serving(
    command: Sequence[str], env: Mapping[str, str], log: Path, port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """A server started from `command`, listening on `port`; stopped however the block ends.
    On failure the tail of its log goes to stderr."""
    with log.open("ab") as log_file:
        server = subprocess.Popen(
            list(command), env=dict(env), cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            wait_until_serving(server, port)
            yield server
        except BaseException:
            log_file.flush()
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop(server)


def run_wrk(
    url: str,
    *,
    duration: int,
    threads: int = 2,
    connections: int = 32,
    headers: Mapping[str, str] | None = None,
    script: Path | None = None,
) -> str:
    """wrk's output; `--latency` for the percentiles, a timeout well past the duration."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=True
    )
    return done.stdout


_LATENCY = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, float]:
    """req/s, request count, p50/p75/p90/p99 in ms, non-2xx-or-3xx answers, socket errors."""
    figures: dict[str, float] = {"non_2xx": 0, "socket_errors": 0}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if rate is None or count is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    figures["requests_per_s"] = float(rate[1])
    figures["requests"] = int(count[1])
    for percentile, value, unit in _LATENCY.findall(output):
        figures[f"p{percentile}_ms"] = float(value) * _UNIT_MS[unit]
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        figures["non_2xx"] = int(match[1])
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        figures["socket_errors"] = sum(int(n) for n in match.groups())
    return figures


def machine() -> dict[str, object]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES.split():
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).split("\n")[0],
        "load_average": os.getloadavg(),
        "packages": versions,
    }


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
