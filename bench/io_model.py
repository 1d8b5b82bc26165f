"""Measure one authenticated read served five ways, on SQLite and PostgreSQL.

    python -m bench.io_model --db sqlite|postgres|both --duration 8

Each variant (bench/variants.py; (a) is the app itself) runs under uvicorn on 127.0.0.1 and
a free port, is checked to answer 200 with the expected PatientRead body, and is driven with
`wrk -t2 -c32 -d8s --latency`. The figures feed docs/decisions/0001-io-model.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.core.config import Settings
from bench import database
from bench.variants import BODY_FILE_VARIABLE, PATH

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VARIANTS = {
    "a": ("async def + sync Session inline (the app)", "app.main:create_app"),
    "b": ("def + def dependency, Session (threadpool)", "bench.variants:create_threadpool_app"),
    "c": ("async def + AsyncSession", "bench.variants:create_async_session_app"),
    "d": ("async def + Core inline", "bench.variants:create_core_app"),
    "e": ("Starlette, precomputed bytes (ceiling)", "bench.variants:create_ceiling_app"),
}
PACKAGES = (
    "fastapi starlette pydantic sqlalchemy uvicorn psycopg asyncpg aiosqlite uvloop httptools"
)


@dataclass
class Result:
    variant: str
    database: str
    round: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    requests: int
    load_before: float  # 1-minute load average when the run started: others' work shows here


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_command(target: str, port: int, workers: int) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--log-level", "warning"]
    if importlib.util.find_spec("uvloop"):
        command += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        command += ["--http", "httptools"]
    return command


def fetch(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_serving(server: subprocess.Popen[bytes], url: str, token: str) -> tuple[int, bytes]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            return fetch(url, token)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError("the server did not answer within 30 s")


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, float]:
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


def run_wrk(url: str, token: str, args: argparse.Namespace, duration: int) -> str:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}", url]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=True
    )
    return done.stdout


def measure(
    variant: str,
    kind: str,
    url: str,
    seeded: database.Seeded,
    env: dict[str, str],
    args: argparse.Namespace,
    round_: int,
) -> Result:
    load_before = os.getloadavg()[0]
    port = free_port()
    target = f"http://127.0.0.1:{port}{PATH.format(patient_id=seeded.patient_id)}"
    log = Path(env[BODY_FILE_VARIABLE]).with_name(f"server-{variant}-{kind}.log")
    command = uvicorn_command(VARIANTS[variant][1], port, args.workers)
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            command,
            env={**env, "DATABASE_URL": url},
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            status, body = wait_until_serving(server, target, seeded.token)
            if status != 200 or json.loads(body) != json.loads(seeded.body):
                raise RuntimeError(f"({variant}) answered {status}: {body[:300]!r}")
            if args.warmup > 0:
                run_wrk(target, seeded.token, args, args.warmup)
            figures = parse_wrk(run_wrk(target, seeded.token, args, args.duration))
        except Exception:
            print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return Result(
        variant=variant,
        database=kind,
        round=round_,
        requests_per_s=figures["requests_per_s"],
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        non_2xx=int(figures["non_2xx"]),
        socket_errors=int(figures["socket_errors"]),
        requests=int(figures["requests"]),
        load_before=load_before,
    )


def bench_database(kind: str, args: argparse.Namespace, workdir: Path) -> list[Result]:
    secret_key = secrets.token_urlsafe(48)
    settings = Settings(secret_key=secret_key, token_lifetime_minutes=24 * 60)
    url = database.create(kind, args.postgres_url)
    try:
        seeded = database.migrate_and_seed(url, settings, patients=args.patients)
        body_file = workdir / f"body-{kind}.json"
        body_file.write_bytes(seeded.body)
        env = {
            **os.environ,
            "REHAB_ENV": "development",
            "REHAB_SECRET_KEY": secret_key,
            "REHAB_LOG_LEVEL": "WARNING",
            BODY_FILE_VARIABLE: str(body_file),
        }
        results = []
        for round_ in range(1, args.rounds + 1):
            for variant in args.variants:
                result = measure(variant, kind, url, seeded, env, args, round_)
                print(row(result), flush=True)
                results.append(result)
        return results
    finally:
        database.drop(url, args.postgres_url)


HEADER = (
    "| variant | database | round | req/s | p50 ms | p99 ms | non-2xx | load |\n"
    "|---|---|---|---|---|---|---|---|"
)


def row(result: Result) -> str:
    name = f"({result.variant}) {VARIANTS[result.variant][0]}"
    errors = f" (+{result.socket_errors} socket errors)" if result.socket_errors else ""
    return (
        f"| {name} | {result.database} | {result.round} | {result.requests_per_s:,.0f} | "
        f"{result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.non_2xx}{errors} | "
        f"{result.load_before:.1f} |"
    )


def summary(results: list[Result]) -> str:
    """Median and best req/s of the rounds, median p50 and p99, the share of the ceiling, and
    errors: non-2xx answers plus socket errors (wrk's 2 s timeouts among them), all rounds."""
    lines = [
        "| variant | database | median req/s | best req/s | % of (e) | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in dict.fromkeys(r.database for r in results):
        ceiling = [r.requests_per_s for r in results if r.database == kind and r.variant == "e"]
        for variant in dict.fromkeys(r.variant for r in results):
            runs = [r for r in results if r.database == kind and r.variant == variant]
            rps = statistics.median(r.requests_per_s for r in runs)
            share = f"{100 * rps / statistics.median(ceiling):.1f} %" if ceiling else "-"
            lines.append(
                f"| ({variant}) {VARIANTS[variant][0]} | {kind} | {rps:,.0f} | "
                f"{max(r.requests_per_s for r in runs):,.0f} | {share} | "
                f"{statistics.median(r.p50_ms for r in runs):.1f} | "
                f"{statistics.median(r.p99_ms for r in runs):.0f} | "
                f"{sum(r.non_2xx + r.socket_errors for r in runs)} |"
            )
    return "\n".join(lines)


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
        "packages": versions,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.io_model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk per variant")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before measuring")
    parser.add_argument("--rounds", type=int, default=1, help="times to run every variant")
    parser.add_argument("--variants", default="abcde", help="which of a-e, in order")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--patients", type=int, default=1_000)
    parser.add_argument(
        "--postgres-url",
        default=database.DEFAULT_POSTGRES_URL,
        help="a server on loopback where a throwaway database can be made",
    )
    args = parser.parse_args(argv)
    if unknown := set(args.variants) - set(VARIANTS):
        parser.error(f"unknown variants: {''.join(sorted(unknown))}")
    if not 0 < args.duration <= 120:
        parser.error("--duration must be in (0, 120] seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    info = machine()
    print(json.dumps(info))
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.workers} worker(s)")
    print(HEADER, flush=True)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="rehab_bench_") as workdir:
        for kind in kinds:
            results += bench_database(kind, args, Path(workdir))
    print(f"\nSummary over {args.rounds} round(s):\n{summary(results)}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"io_model-{stamp}.json"
    out.write_text(
        json.dumps(
            {"machine": info, "args": vars(args), "results": [asdict(r) for r in results]}, indent=2
        )
    )
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
