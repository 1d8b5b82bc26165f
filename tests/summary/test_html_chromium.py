"""The summary page in a real browser: headless Chromium (Debian's `chromium` package, which
.ci/run installs) opens the page the API rendered, from a file (the page is standalone), and
the test fails on any console error, uncaught exception or failed load.

Console errors are read through the Chrome DevTools Protocol (`--remote-debugging-port`, over
the `websockets` client that uvicorn[standard] already brings): Runtime.exceptionThrown,
Runtime.consoleAPICalled of type error or assert, and Log.entryAdded at level error (failed
loads and Content-Security-Policy refusals). A first test shows that this detector does catch
a page's errors, so that a silent browser cannot pass for a clean page.

Screenshots go to `test-output/summary/` at the repository root (ignored by git):
`summary.png` (the whole page on screen), `summary-print.png` (with print styles) and the page
itself as `summary.html`.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from websockets.sync.client import ClientConnection, connect

from tests.builders import auth_headers
from tests.summary.builders import home_program, make_summary_plan

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "summary"
TIMEOUT_S = 30.0
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "Debian's chromium package is not installed (.ci/run installs it): neither chromium "
        "nor chromium-browser is on PATH, so the page cannot be checked in a browser here."
    )


class DevTools:
    """Just enough of the Chrome DevTools Protocol: calls, and the events they bring."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._last_id = 0

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("Chromium did not answer in time")
        message: dict[str, Any] = json.loads(self.socket.recv(timeout=remaining))
        return message

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._receive(deadline)
            if reply.get("id") != self._last_id:
                self.events.append(reply)
                continue
            assert "error" not in reply, f"{method}: {reply['error']}"
            result: dict[str, Any] = reply.get("result", {})
            return result

    def wait_for(self, method: str, session: str) -> None:
        def seen() -> bool:
            return any(
                e.get("method") == method and e.get("sessionId") == session for e in self.events
            )

        deadline = time.monotonic() + TIMEOUT_S
        while not seen():
            self.events.append(self._receive(deadline))

    def problems(self, session: str) -> list[str]:
        """The errors the page reported: exceptions, console errors, failed loads."""
        found = []
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(
                    "exception: " + details.get("exception", {}).get("description", details["text"])
                )
            elif event.get("method") == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                found.append(
                    "console: "
                    + " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log ({params['entry']['source']}): {params['entry']['text']}")
        return found


def _devtools_url(profile: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    """Chromium writes its DevTools port and path to the profile once it listens."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chromium exited with {process.returncode}: {log.read_text()[-2000:]}")
        lines = port_file.read_text().split() if port_file.exists() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    pytest.fail("chromium did not open its DevTools port in time")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    binary = chromium_binary()
    profile = tmp_path_factory.mktemp("chromium-profile")
    log = profile.parent / "chromium.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            url = _devtools_url(profile, process, log)
            with connect(url, proxy=None, max_size=None, open_timeout=TIMEOUT_S) as socket:
                devtools = DevTools(socket)
                yield devtools
                devtools.call("Browser.close")
            process.wait(timeout=TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def open_page(devtools: DevTools, path: Path) -> str:
    """A new tab showing the file, loaded; returns its DevTools session."""
    target = devtools.call("Target.createTarget", url="about:blank")["targetId"]
    attached = devtools.call("Target.attachToTarget", targetId=target, flatten=True)
    session: str = attached["sessionId"]
    for domain in ("Runtime", "Log", "Page"):
        devtools.call(f"{domain}.enable", session)
    devtools.call(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=1280,
        height=2000,
        deviceScaleFactor=1,
        mobile=False,
    )
    navigation = devtools.call("Page.navigate", session, url=path.as_uri())
    assert "errorText" not in navigation, navigation
    devtools.wait_for("Page.loadEventFired", session)
    return session


def screenshot(devtools: DevTools, session: str, path: Path) -> None:
    """The whole page, not only the window."""
    size = devtools.call("Page.getLayoutMetrics", session)["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = devtools.call(
        "Page.captureScreenshot", session, format="png", captureBeyondViewport=True, clip=clip
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def test_the_detector_catches_a_page_with_errors(browser: DevTools, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><title>broken</title>"
        "<script>console.error('deliberate console error'); undefinedFunction();</script>"
    )

    problems = browser.problems(open_page(browser, broken))

    assert any("deliberate console error" in p for p in problems), problems
    assert any("undefinedFunction" in p for p in problems), problems


def test_the_summary_page_opens_in_chromium_without_errors(
    browser: DevTools, client: TestClient, session: Session
) -> None:
    built = make_summary_plan(session)
    home_program(session, built.plan)
    response = client.get(
        f"/api/v1/plans/{built.plan.id}/summary.html", headers=auth_headers(built.patient_user)
    )
    assert response.status_code == 200, response.text
    page = response.text
    assert "<script" not in page.lower()
    assert not re.search(r"https?://", page)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    html_file = OUTPUT / "summary.html"
    html_file.write_text(page, encoding="utf-8")

    tab = open_page(browser, html_file)
    title = browser.call("Runtime.evaluate", tab, expression="document.title")["result"]
    charts = browser.call(
        "Runtime.evaluate", tab, expression="document.querySelectorAll('svg.chart').length"
    )["result"]
    screenshot(browser, tab, OUTPUT / "summary.png")
    browser.call("Emulation.setEmulatedMedia", tab, media="print")
    screenshot(browser, tab, OUTPUT / "summary-print.png")

    assert browser.problems(tab) == []
    assert title["value"].startswith("Your rehabilitation plan")
    assert charts["value"] == 6
    assert (OUTPUT / "summary.png").stat().st_size > 10_000
    print(f"screenshots: {OUTPUT / 'summary.png'} and {OUTPUT / 'summary-print.png'}")  # noqa: T201
