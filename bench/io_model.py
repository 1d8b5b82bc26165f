"""Measure one authenticated read served five ways, on SQLite and PostgreSQL.

    python -m bench.io_model --db sqlite|postgres|both --duration 8

Each variant (bench/variants.py; (a) is the app itself) runs under uvicorn on 127.0.0.1 and
a free port, is checked to answer 200 with the expected PatientRead body, and is driven with
`wrk -t2 -c32 -d8s --latency`. The figures feed docs/decisions/0001-io-model.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from app.core.config import Settings
from bench import database, harness
from bench.harness import RESULTS, ROOT
from bench.variants import BODY_FILE_VARIABLE, PATH

VARIANTS = {
    "a": ("async def + sync Session inline (the app)", "app.main:create_app"),
    "b": ("def + def dependency, Session (threadpool)", "bench.variants:create_threadpool_app"),
    "c": ("async def + AsyncSession", "bench.variants:create_async_session_app"),
    "d": ("async def + Core inline", "bench.variants:create_core_app"),
    "e": ("Starlette, precomputed bytes (ceiling)", "bench.variants:create_ceiling_app"),
}


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


def run_wrk(url: str, token: str, args: argparse.Namespace, duration: int) -> str:
    return harness.run_wrk(
        url,
        duration=duration,
        threads=args.threads,
        connections=args.connections,
        headers={"Authorization": f"Bearer {token}"},
    )


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
    port = harness.free_port()
    target = f"http://127.0.0.1:{port}{PATH.format(patient_id=seeded.patient_id)}"
    log = Path(env[BODY_FILE_VARIABLE]).with_name(f"server-{variant}-{kind}.log")
    command = harness.uvicorn_command(VARIANTS[variant][1], port, args.workers)
    with harness.serving(command, {**env, "DATABASE_URL": url}, log, port):
        answer = harness.fetch(target, {"Authorization": f"Bearer {seeded.token}"})
        if answer.status != 200 or json.loads(answer.body) != json.loads(seeded.body):
            raise RuntimeError(f"({variant}) answered {answer.status}: {answer.body[:300]!r}")
        if args.warmup > 0:
            run_wrk(target, seeded.token, args, args.warmup)
        figures = harness.parse_wrk(run_wrk(target, seeded.token, args, args.duration))
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
    info = harness.machine()
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
    out = RESULTS / f"io_model-{harness.stamp()}.json"
    out.write_text(
        json.dumps(
            {"machine": info, "args": vars(args), "results": [asdict(r) for r in results]}, indent=2
        )
    )
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
