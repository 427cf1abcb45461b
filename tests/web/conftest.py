"""Browser tests: a real `kiroku serve` (SQLite and the embedded broker only, to keep CI time down)
driven through Debian's Chromium with Playwright. No browser is ever downloaded.

Screenshots of every page at 1280×720 go to ``$KIROKU_SCREENSHOTS`` (default /tmp/kiroku-screenshots),
outside the repository.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.conftest import missing_service
from tests.service.conftest import PASSWORD, Backend, engine, service_env
from tests.service.processes import Process, service_process_env, start_server

__all__ = ["engine", "service_env"]  # the service tests' fixtures, used here with the SQLite backend below

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--lang=ja-JP",
]
DEPARTMENT = "北区役所 保健福祉課"
OTHER_DEPARTMENT = "財政局 税務部"


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    """Only the embedded defaults: the browser does not care which database is behind the API."""
    return Backend("sqlite", f"sqlite:///{tmp_path / 'kiroku.db'}", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing_service("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    folder = Path(os.environ.get("KIROKU_SCREENSHOTS", "/tmp/kiroku-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Site:
    """A running `kiroku serve` with two clerks of one department and one of another."""

    base: str
    engine: Engine
    storage: Path
    processes: list[Process] = field(default_factory=list)

    def context(self, browser: Any) -> Any:
        return browser.new_context(
            viewport={"width": 1280, "height": 720},
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            accept_downloads=True,
        )


@pytest.fixture
def site_factory(engine: Engine, service_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Site]]:
    from service.accounts import add_user
    from service.models import Role

    with Session(engine) as db:
        add_user(db, "web_clerk", Role.clerk, DEPARTMENT, PASSWORD, display_name="山田 花子")
        add_user(db, "web_clerk2", Role.clerk, DEPARTMENT, PASSWORD, display_name="佐藤 次郎")
        add_user(db, "web_manager", Role.manager, DEPARTMENT, PASSWORD, display_name="鈴木 課長")
        add_user(db, "other_clerk", Role.clerk, OTHER_DEPARTMENT, PASSWORD)
    started: list[Process] = []

    def start(worker: bool = False) -> Site:
        server, base = start_server(tmp_path, service_process_env(service_env), worker=worker)
        started.append(server)
        return Site(base, engine, Path(service_env["KIROKU_STORAGE_DIR"]), [server])

    yield start
    for process in started:
        process.kill()


def log_in(page: Any, base: str, user: str, password: str = PASSWORD, path: str = "/") -> None:
    page.goto(f"{base}/login?next={path}")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{base}{path}")


def watch_errors(page: Any) -> list[str]:
    """Script errors and failed requests the page shows in its console (the test asserts none)."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(f"pageerror: {error}"))
    page.on("console", lambda message: found.append(f"console: {message.text}") if message.type == "error" else None)
    return found


def shoot(page: Any, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path))
    return path
