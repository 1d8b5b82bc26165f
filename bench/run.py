"""Performance measured against the physical ceiling: the ladder and the real endpoints.

    python -m bench.run --db sqlite|postgres|both --scale 1000 --duration 5 --workers 1,2

For each database: seed a realistic data set through the app's code (bench/seed.py), fetch
the plan response once from the real app, print EXPLAIN for the hot queries, then for each
worker count run the ladder (bench/ladder.py: C0, FastAPI bytes, C1 for the database, the
conventional way) and the real app (`rehab serve`, REHAB_ENV=production) on loopback, each
checked first (status, and for the plan the exact bytes), warmed up and driven with
`wrk -t2 -c32 --latency`. Prints one table per database and writes the raw figures to
bench/results/run-<stamp>.json. See bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.auth.security import issue_token
from app.core.config import Settings
from bench import database, explain, harness, ladder, seed
from bench.harness import HOST, RESULTS, ROOT, Answer

RUNGS = {
    "c0": ("C0: Starlette route, the bytes", "bench.ladder:create_c0_app"),
    "fastapi": ("FastAPI async def, the bytes", "bench.ladder:create_fastapi_bytes_app"),
    "c1": ("C1: FastAPI + one raw {driver} lookup, the bytes", None),
    "conventional": (
        "conventional: def + Session + ORM selectinload + response_model",
        "bench.ladder:create_conventional_app",
    ),
}
C1_FACTORY = {
    "sqlite": ("sqlite3", "bench.ladder:create_c1_sqlite_app"),
    "postgres": ("asyncpg", "bench.ladder:create_c1_postgres_app"),
}
REAL = (
    "plan",
    "progress",
    "worklist",
    "worklist_admin",
    "patients",
    "patient",
    "observations",
    "log_post",
    "observation_batch",
)
LABELS = {
    "plan": "GET /plans/{id} (the app)",
    "progress": "GET /plans/{id}/progress",
    "worklist": "GET /worklist (clinician)",
    "worklist_admin": "GET /worklist (admin, whole clinic)",
    "patients": "GET /patients (first page)",
    "patient": "GET /patients/{id} (one record)",
    "observations": "GET /patients/{id}/observations",
    "log_post": "POST home log (Idempotency-Key)",
    "observation_batch": "POST 5 observations (batch)",
}
FLAT_ROWS = ("worklist", "worklist_admin", "patients", "observations")
FLAT_WITHIN = 1.5  # "flat": p50 and p99 at most this many times the smaller scale's


@dataclass
class Row:
    database: str
    scale: int
    workers: int
    key: str
    label: str
    requests_per_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int = 0
    socket_errors: int = 0
    requests: int = 0
    load_before: float = 0.0
    failed: str | None = None  # why the row has no figures (a check failed, a server died)
    single_ms: float | None = None  # one request alone (no other load), median
    drained_s: float = 0.0  # waited after the run for requests wrk had given up on

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


@dataclass
class Request:
    """One target: what to send, and how to check the first answer."""

    path: str
    headers: dict[str, str]
    check: Callable[[Answer], str | None]
    method: str = "GET"
    body: bytes | None = None
    rotation: list[tuple[str, str]] = field(default_factory=list)  # POST: (path, auth) pairs


@dataclass
class Context:
    kind: str
    url: str
    seeded: seed.Seeded
    env: dict[str, str]
    workdir: Path
    tokens: dict[str, str]
    plan_body: bytes = b""
    plan_etag: str = ""


# Checks of the first answer, before any load.


def _status(*wanted: int) -> Callable[[Answer], str | None]:
    def check(answer: Answer) -> str | None:
        if answer.status in wanted:
            return None
        return f"answered {answer.status}: {answer.body[:300]!r}"

    return check


def _exactly(body: bytes) -> Callable[[Answer], str | None]:
    def check(answer: Answer) -> str | None:
        if answer.status != 200:
            return f"answered {answer.status}: {answer.body[:300]!r}"
        if answer.body != body:
            return (
                f"answered other bytes ({len(answer.body)} vs {len(body)}): {answer.body[:200]!r}"
            )
        return None

    return check


# The targets.


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _log_body() -> bytes:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    sets = [{"reps": 10, "load_value": 20, "rpe": 6} for _ in range(3)]
    return json.dumps({"performed_on": yesterday, "sets": sets, "pain_during": 2}).encode()


def _observation_body() -> bytes:
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    items = [
        ("pain_nrs", "none", 3),
        ("psfs", "none", 5.5),
        ("single_leg_squat_reps", "left", 15),
        ("single_leg_squat_reps", "right", 11),
        ("quadriceps_strength_kg", "right", 25.5),
    ]
    observations = [
        {"measure_code": code, "side": side, "value": value, "observed_at": at}
        for code, side, value in items
    ]
    return json.dumps({"observations": observations}).encode()


def real_requests(ctx: Context) -> dict[str, Request]:
    s, tokens = ctx.seeded, ctx.tokens
    clinician = _bearer(tokens["clinician"])
    plan = f"/api/v1/plans/{s.plan_id}"
    logs = [
        (f"/api/v1/prescriptions/{rx}/logs", f"Bearer {tokens[str(user)]}")
        for rx, user in s.log_targets
    ]
    batches = [
        (f"/api/v1/patients/{p}/observations/batch", f"Bearer {tokens['clinician']}")
        for p in s.observation_patients
    ]
    ok = _status(200)
    return {
        "plan": Request(plan, clinician, _exactly(ctx.plan_body)),
        "progress": Request(f"{plan}/progress", clinician, ok),
        "worklist": Request("/api/v1/worklist", clinician, ok),
        "worklist_admin": Request("/api/v1/worklist", _bearer(tokens["admin"]), ok),
        "patients": Request("/api/v1/patients", clinician, ok),
        "patient": Request(f"/api/v1/patients/{s.patient_id}", clinician, ok),
        "observations": Request(f"/api/v1/patients/{s.patient_id}/observations", clinician, ok),
        "log_post": Request(logs[0][0], {}, _status(201), "POST", _log_body(), rotation=logs),
        "observation_batch": Request(
            batches[0][0], {}, _status(201), "POST", _observation_body(), rotation=batches
        ),
    }


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def write_lua(request: Request, folder: Path) -> Path:
    """A wrk script that rotates over the (path, Authorization) pairs, sends the JSON body
    and a unique Idempotency-Key with every request."""
    nonce = secrets.token_hex(6)
    pairs = ",\n".join(
        f"  {{{_lua_string(path)}, {_lua_string(auth)}}}" for path, auth in request.rotation
    )
    script = f"""-- generated by bench/run.py
local targets = {{
{pairs}
}}
local body = {_lua_string(request.body.decode() if request.body else "")}
local nonce = "{nonce}"
local counter = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local me = tid or 0
  local target = targets[((counter + me * 7919) % #targets) + 1]
  local headers = {{}}
  headers["Authorization"] = target[2]
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = nonce .. "-" .. me .. "-" .. counter
  return wrk.format("{request.method}", target[1], headers, body)
end
"""
    path = folder / f"post-{nonce}.lua"
    path.write_text(script)
    return path


# Driving one target.


def drive(
    ctx: Context,
    server: subprocess.Popen[bytes],
    port: int,
    key: str,
    label: str,
    request: Request,
    args: argparse.Namespace,
) -> Row:
    row = Row(ctx.kind, ctx.seeded.scale, 0, key, label)
    base = f"http://{HOST}:{port}"

    def once() -> tuple[Answer, float]:
        headers = dict(request.headers)
        path = request.path
        if request.method == "POST":
            path, auth = request.rotation[-1]  # a target wrk reaches last
            headers = {"Authorization": auth, "Content-Type": "application/json"}
            headers["Idempotency-Key"] = f"check-{uuid.uuid4()}"
        began = time.perf_counter()
        answer = harness.fetch(
            base + path, headers, method=request.method, body=request.body, timeout=300
        )
        return answer, (time.perf_counter() - began) * 1000

    answer, _ = once()
    if problem := request.check(answer):
        row.failed = problem
        return row

    def wrk(duration: int) -> str:
        script = write_lua(request, ctx.workdir) if request.method == "POST" else None
        return harness.run_wrk(
            base + request.path,
            duration=duration,
            threads=args.threads,
            connections=args.connections,
            headers=request.headers,
            script=script,
        )

    if args.warmup > 0:
        wrk(args.warmup)
        harness.wait_idle(server)
    row.load_before = os.getloadavg()[0]
    figures = harness.parse_wrk(wrk(args.duration))
    row.drained_s = harness.wait_idle(server)
    row.requests_per_s = figures["requests_per_s"]
    row.requests = int(figures["requests"])
    if row.requests:
        row.p50_ms = figures.get("p50_ms")
        row.p99_ms = figures.get("p99_ms")
    row.non_2xx = int(figures["non_2xx"])
    row.socket_errors = int(figures["socket_errors"])
    slow = row.requests < 10 * args.duration
    # The same request alone, one at a time: its own cost, without the queue of 32.
    row.single_ms = statistics.median(once()[1] for _ in range(3 if slow else 11))
    return row


def run_rung(ctx: Context, key: str, workers: int, args: argparse.Namespace) -> Row:
    label, target = RUNGS[key]
    if key == "c1":
        driver, target = C1_FACTORY[ctx.kind]
        label = label.format(driver=driver)
    assert target is not None
    port = harness.free_port()
    log = ctx.workdir / f"server-{ctx.kind}-{key}-{workers}.log"
    request = Request(
        f"/api/v1/plans/{ctx.seeded.plan_id}",
        _bearer(ctx.tokens["clinician"]),
        _exactly(ctx.plan_body),
    )
    command = harness.uvicorn_command(target, port, workers)
    try:
        with harness.serving(command, ctx.env, log, port) as server:
            row = drive(ctx, server, port, key, label, request, args)
    except Exception as exc:  # a rung that fails is a row that says so, not a lost run
        row = Row(ctx.kind, ctx.seeded.scale, workers, key, label, failed=repr(exc)[:300])
    row.workers = workers
    return row


def run_real(ctx: Context, workers: int, args: argparse.Namespace) -> list[Row]:
    port = harness.free_port()
    log = ctx.workdir / f"server-{ctx.kind}-app-{workers}.log"
    requests = real_requests(ctx)
    rows = []
    with harness.serving(harness.rehab_serve_command(port, workers), ctx.env, log, port) as server:
        for key in args.real:
            try:
                row = drive(ctx, server, port, key, LABELS[key], requests[key], args)
            except Exception as exc:
                row = Row(ctx.kind, ctx.seeded.scale, workers, key, LABELS[key])
                row.failed = repr(exc)[:300]
            row.workers = workers
            print(f"  {row.key} ({workers} worker(s)): {_brief(row)}", flush=True)
            rows.append(row)
    return rows


def _brief(row: Row) -> str:
    if row.failed:
        return f"FAILED {row.failed}"
    text = f"{row.requests_per_s:,.0f} req/s, p99 {_ms(row.p99_ms)} ms, {row.errors} errors"
    text += f"; one request alone {_ms(row.single_ms)} ms"
    return text + (f"; drained {row.drained_s:.0f} s after" if row.drained_s > 1 else "")


# Fetching the plan's bytes from the real app, once.


def fetch_plan(ctx: Context) -> None:
    port = harness.free_port()
    log = ctx.workdir / f"server-{ctx.kind}-app-fetch.log"
    url = f"http://{HOST}:{port}/api/v1/plans/{ctx.seeded.plan_id}"
    with harness.serving(harness.rehab_serve_command(port, 1), ctx.env, log, port):
        answer = harness.fetch(url, _bearer(ctx.tokens["clinician"]))
    if answer.status != 200:
        raise RuntimeError(f"the real app answered {answer.status}: {answer.body[:300]!r}")
    ctx.plan_body = answer.body
    ctx.plan_etag = answer.headers.get("etag", answer.headers.get("ETag", ""))


# One database.


@contextmanager
def prepared(kind: str, args: argparse.Namespace, workdir: Path) -> Iterator[Context]:
    """A throwaway database of `kind`, seeded, with tokens, the servers' environment and the
    real plan response; dropped afterwards, whatever happens."""
    url = database.create(kind, args.postgres_url)
    try:
        print(f"\n## {kind}: seeding {args.scale:,} patients", flush=True)
        seeded = seed.seed(url, args)
        print(f"seeded in {sum(seeded.timings.values()):.0f} s {_rounded(seeded.timings)}")
        print(f"attention refreshed through the app: {seeded.refresh_mode}")
        print(f"rows: {seeded.rows}", flush=True)
        secret = secrets.token_urlsafe(36)  # 48 characters
        settings = Settings(
            secret_key=secret, env="production", token_lifetime_minutes=24 * 60, database_url=url
        )
        tokens = {
            "clinician": issue_token(settings, seeded.clinician_id, seeded.clinic_id)[0],
            "admin": issue_token(settings, seeded.admin_id, seeded.clinic_id)[0],
        }
        for _, user in seeded.log_targets:
            tokens[str(user)] = issue_token(settings, user, seeded.clinic_id)[0]
        body_file = workdir / f"plan-{kind}.json"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REHAB_ENV": "production",
            "REHAB_SECRET_KEY": secret,
            "REHAB_LOG_LEVEL": "WARNING",
            ladder.BODY_FILE_VARIABLE: str(body_file),
            ladder.CLINIC_VARIABLE: str(seeded.clinic_id),
        }
        ctx = Context(kind, url, seeded, env, workdir, tokens)
        fetch_plan(ctx)
        body_file.write_bytes(ctx.plan_body)
        env[ladder.ETAG_VARIABLE] = ctx.plan_etag
        print(f"plan response: {len(ctx.plan_body):,} bytes, ETag {ctx.plan_etag}")
        yield ctx
    finally:
        database.drop(url, args.postgres_url)


def bench_database(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with prepared(kind, args, workdir) as ctx:
        seeded = ctx.seeded
        explained = explain.explain(ctx.url, seeded)
        explain_text = explain.report(explained)
        rows: list[Row] = []
        for workers in args.workers:
            for key in args.rungs:
                row = run_rung(ctx, key, workers, args)
                print(f"  {key} ({workers} worker(s)): {_brief(row)}", flush=True)
                rows.append(row)
            rows += run_real(ctx, workers, args)
        table = render(kind, rows, args)
        method = "EXPLAIN (ANALYZE, BUFFERS)" if kind == "postgres" else "EXPLAIN QUERY PLAN"
        print(f"\n{table}\n\n## {kind}: {method}, at {args.scale:,} patients\n\n{explain_text}")
        return {
            "database": kind,
            "seed": {
                "scale": seeded.scale,
                "timings": seeded.timings,
                "rows": seeded.rows,
                "refresh": seeded.refresh_mode,
            },
            "plan_bytes": len(ctx.plan_body),
            "rows": [asdict(r) for r in rows],
            "table": table,
            "explain": [asdict(e) for e in explained],
        }


# The table.


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in timings.items()}


def _share(value: float | None, reference: float | None) -> str:
    if not value or not reference:
        return "-"
    return f"{100 * value / reference:.1f} %"


def _times(value: float | None, reference: float | None) -> str:
    if not value or not reference:
        return "-"
    return f"{value / reference:.1f}x"


def verdict(kind: str, row: Row, c1: float | None, conventional: float | None) -> str:
    """The issue's targets, judged in this run."""
    rps = row.requests_per_s or 0.0
    if row.failed:
        return "no (failed)" if row.key in ("plan", "progress", "worklist", "log_post") else "-"
    if row.key == "plan":
        misses = []
        if not c1 or rps < 0.5 * c1:
            misses.append(f"{_share(rps, c1)} of C1 < 50 %")
        if not conventional or rps < 15 * conventional:
            misses.append(f"{_times(rps, conventional)} conventional < 15x")
        if row.p99_ms is None or row.p99_ms >= 25:
            misses.append(f"p99 {_ms(row.p99_ms)} ms ≥ 25")
        return "yes" if not misses else "no: " + "; ".join(misses)
    if row.key in ("progress", "worklist"):
        if c1 and rps >= 0.25 * c1:
            return "yes"
        return f"no: {_share(rps, c1)} of C1 < 25 %"
    if row.key == "log_post":
        if kind != "postgres":
            return "(reported: the target is PostgreSQL's)"
        if row.workers != 2:
            return "(the target is at 2 workers)"
        if rps >= 1000 and row.errors == 0:
            return "yes"
        return f"no: {rps:,.0f}/s, {row.errors} errors (≥ 1,000/s, 0 errors)"
    if row.key in FLAT_ROWS:
        return "see flatness"
    return "-"


def render(kind: str, rows: list[Row], args: argparse.Namespace) -> str:
    header = [
        "target",
        "workers",
        "req/s",
        "p50 ms",
        "p99 ms",
        "alone ms",
        "errors",
        "vs C0",
        "vs C1",
        "vs conventional",
        "target met?",
        "load",
    ]
    lines = []
    for workers in args.workers:
        mine = [r for r in rows if r.workers == workers]
        by_key = {r.key: r.requests_per_s for r in mine}
        c0, c1, conventional = by_key.get("c0"), by_key.get("c1"), by_key.get("conventional")
        for r in mine:
            label = r.label if not r.failed else f"{r.label} — FAILED: {r.failed[:120]}"
            if r.requests < 10 and not r.failed:
                label += f" ({r.requests} done in {args.duration} s)"
            rps = f"{r.requests_per_s:,.0f}" if r.requests_per_s is not None else "-"
            errors = f"{r.errors}" + (f" ({r.socket_errors} socket)" if r.socket_errors else "")
            lines.append(
                [
                    label,
                    workers,
                    rps,
                    _ms(r.p50_ms),
                    _ms(r.p99_ms),
                    _ms(r.single_ms),
                    errors,
                    _share(r.requests_per_s, c0),
                    _share(r.requests_per_s, c1),
                    _times(r.requests_per_s, conventional),
                    verdict(kind, r, c1, conventional),
                    f"{r.load_before:.1f}",
                ]
            )
    title = (
        f"## {kind}: {args.scale:,} patients, wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s after {args.warmup} s of warm-up"
    )
    return f"{title}\n\n{harness.markdown_table(header, lines)}"


def flatness(results: list[dict[str, Any]], baseline: dict[str, Any]) -> str:
    """The list rows' latency at this run's scale against the baseline run's. "Flat": one
    request alone, and the p50 under load, each at most FLAT_WITHIN times the smaller scale's
    (p99 of a few seconds' run is shown, not judged: it moves with anything else running)."""
    header = ["database", "target", "workers", "scales", "alone ms", "p50 ms", "p99 ms", "req/s"]
    header.append("flat?")
    lines = []
    for result in results:
        old = next((b for b in baseline["databases"] if b["database"] == result["database"]), None)
        if old is None:
            continue
        before = {(r["key"], r["workers"]): r for r in old["rows"]}
        for row in result["rows"]:
            previous = before.get((row["key"], row["workers"]))
            if row["key"] not in FLAT_ROWS or previous is None:
                continue
            small, large = sorted((previous, row), key=lambda r: r["scale"])
            if None in (small["p50_ms"], large["p50_ms"], small["single_ms"], large["single_ms"]):
                continue
            grew = max(large["single_ms"] / small["single_ms"], large["p50_ms"] / small["p50_ms"])
            lines.append(
                [
                    result["database"],
                    LABELS[row["key"]],
                    row["workers"],
                    f"{small['scale']:,} → {large['scale']:,}",
                    f"{_ms(small['single_ms'])} → {_ms(large['single_ms'])}",
                    f"{_ms(small['p50_ms'])} → {_ms(large['p50_ms'])}",
                    f"{_ms(small['p99_ms'])} → {_ms(large['p99_ms'])}",
                    f"{small['requests_per_s']:,.0f} → {large['requests_per_s']:,.0f}",
                    "yes" if grew <= FLAT_WITHIN else f"no ({grew:.1f}x)",
                ]
            )
    return harness.markdown_table(header, lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per target")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, e.g. 1,2")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--rungs", default=",".join(RUNGS), help=f"of {','.join(RUNGS)}")
    parser.add_argument("--real", default=",".join(REAL), help=f"of {','.join(REAL)}")
    parser.add_argument("--baseline", type=Path, help="a results JSON at another scale")
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BASELINE", "RESULTS"),
        help="only print the flatness table of two results JSON files, and exit",
    )
    parser.add_argument(
        "--postgres-url",
        default=database.DEFAULT_POSTGRES_URL,
        help="a server on loopback where a throwaway database can be made",
    )
    seed.add_arguments(parser)
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",") if w]
    args.rungs = [r for r in args.rungs.split(",") if r]
    args.real = [r for r in args.real.split(",") if r]
    if unknown := (set(args.rungs) - set(RUNGS)) | (set(args.real) - set(REAL)):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if not 0 < args.duration <= 120:
        parser.error("--duration must be in (0, 120] seconds")
    if not 1 <= args.scale <= 1_000_000:
        parser.error("--scale must be in [1, 1,000,000]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare:
        baseline, results = (json.loads(path.read_text()) for path in args.compare)
        print(flatness(results["databases"], baseline))
        return 0
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    info = harness.machine()
    print(json.dumps(info), flush=True)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = []
    with tempfile.TemporaryDirectory(prefix="rehab_bench_run_") as workdir:
        for kind in kinds:
            results.append(bench_database(kind, args, Path(workdir)))
    if args.baseline:
        baseline = json.loads(args.baseline.read_text())
        print(f"\n## Flatness against {args.baseline.name}\n\n{flatness(results, baseline)}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"run-{args.db}-{args.scale}-{harness.stamp()}.json"
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    out.write_text(
        json.dumps({"machine": info, "args": options, "databases": results}, indent=2, default=str)
    )
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
