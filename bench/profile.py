"""Where the time goes in one real endpoint under load: py-spy's samples, summed by function.

    python -m bench.profile --db sqlite --scale 1000 --target plan --duration 10

Seeds and serves as bench/run.py does (`rehab serve`, production settings, one worker), drives
the target with wrk, and meanwhile samples the server with `py-spy record` (from the bench
extra; it needs ptrace, so root or CAP_SYS_PTRACE). Prints the functions with the largest
share of the samples, inclusive (anywhere on the stack) and self (on top of it), and writes
the raw collapsed stacks beside the results.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import database, harness, seed
from bench.harness import HOST, RESULTS
from bench.run import LABELS, REAL, prepared, real_requests, write_lua

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    """`function (path/to/module.py:12)` as `function (module.py)`: lines merged."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['name']} ({path})"


LAYERS = (  # (what a leaf frame's file says, the layer), first match wins
    ("psycopg", "driver + database (SQL executed, rows fetched)"),
    ("sqlalchemy/engine/default.py", "driver + database (SQL executed, rows fetched)"),
    ("sqlalchemy/engine/cursor.py", "driver + database (SQL executed, rows fetched)"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM (statements, hydration, loaders)"),
    ("sqlalchemy/", "SQLAlchemy Core (compile, cache keys, types)"),
    ("pydantic", "pydantic (validation, serialisation)"),
    ("fastapi/", "FastAPI / Starlette"),
    ("starlette/", "FastAPI / Starlette"),
    ("uvicorn/", "uvicorn, the event loop, sockets"),
    ("asyncio/", "uvicorn, the event loop, sockets"),
    ("app/", "the app's own code"),
)


def _layer(frame: str) -> str:
    for marker, layer in LAYERS:
        if marker in frame:
            return layer
    return "other (standard library: uuid, json, datetime, ...)"


def summarise(raw: str, top: int) -> str:
    """Three views of py-spy's collapsed stacks: the share of samples per layer (by the
    function on top), the app's own functions inclusive, and the functions on top (self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
        layers[_layer(frames[-1])] += n
    if not total:
        return "no samples"

    def share(n: int) -> str:
        return f"{100 * n / total:.1f} %"

    app_frames = [
        (name, n)
        for name, n in inclusive.most_common()
        if "(app/" in name and "app/cli.py" not in name and "app/core/middleware" not in name
    ]
    lines = [f"{total:,} samples\n", "| layer (function on top) | share |", "|---|---|"]
    lines += [f"| {name} | {share(n)} |" for name, n in layers.most_common()]
    lines += ["", "| inclusive | the app's functions |", "|---|---|"]
    lines += [f"| {share(n)} | {name} |" for name, n in app_frames[:top]]
    lines += ["", "| self | function on top |", "|---|---|"]
    lines += [f"| {share(n)} | {name} |" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--target", choices=REAL, default="plan")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--postgres-url", default=database.DEFAULT_POSTGRES_URL)
    seed.add_arguments(parser)
    parser.add_argument("--summarise", type=Path, help="only summarise a raw stacks file")
    args = parser.parse_args(argv)
    if args.summarise:
        print(summarise(args.summarise.read_text(), args.top))
        return 0
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists() or shutil.which("wrk") is None:
        print("needs py-spy (pip install -e '.[bench]') and wrk", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-{args.db}-{args.target}-{args.scale}-{harness.stamp()}.txt"
    with (
        tempfile.TemporaryDirectory(prefix="rehab_bench_profile_") as workdir,
        prepared(args.db, args, Path(workdir)) as ctx,
    ):
        request = real_requests(ctx)[args.target]
        port = harness.free_port()
        log = Path(workdir) / "server.log"
        command = harness.rehab_serve_command(port, 1)
        with harness.serving(command, ctx.env, log, port) as server:
            script = write_lua(request, Path(workdir)) if request.method == "POST" else None
            harness.run_wrk(  # warm-up
                f"http://{HOST}:{port}{request.path}",
                duration=2,
                headers=request.headers,
                script=script,
            )
            harness.wait_idle(server)
            wrk = subprocess.Popen(
                [
                    "wrk",
                    f"-t{args.threads}",
                    f"-c{args.connections}",
                    f"-d{args.duration + 2}s",
                    *(["-s", str(script)] if script else []),
                    *[f"-H{k}: {v}" for k, v in request.headers.items()],
                    f"http://{HOST}:{port}{request.path}",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                subprocess.run(
                    [
                        *(py_spy, "record", "-p", str(server.pid), "-d", str(args.duration)),
                        *("-r", "250", "-f", "raw", "-o", str(out), "--nonblocking"),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=args.duration + 60,
                )
            finally:
                stdout, _ = wrk.communicate(timeout=args.duration + 60)
    figures = harness.parse_wrk(stdout)
    print(
        f"\n## Profile: {LABELS[args.target]}, {args.db}, {args.scale:,} patients, 1 worker: "
        f"{figures['requests_per_s']:,.0f} req/s under py-spy\n"
    )
    print(summarise(out.read_text(), args.top))
    print(f"\nraw stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
