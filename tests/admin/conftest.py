"""Admin console tests: the console on waitress in this process, real Redis, the sandbox over HTTP,
and (for the flows) headless Chromium driven by Selenium.

Chromium and chromedriver come from the distribution (Debian: ``chromium``,
``chromium-driver``; ``.ci/run`` installs them). Without them the browser tests
are skipped on a developer's machine and fail under CI, like every other
missing service (``require_service``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile

import pytest
import requests

from tests.conftest import require_service
from tests.waiting import wait_for

ADMIN = "alice"
PASSWORD = "correct horse battery staple"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """A running console: ``url``, ``redis``, ``settings``, ``app``; ``session()`` signs in over HTTP."""

    def __init__(self, server, app, redis, settings):
        self.server, self.app, self.redis, self.settings = server, app, redis, settings
        self.url = server.url

    def store(self):
        from etsyflow.shops import ShopStore

        return ShopStore(self.redis, self.settings)

    def session(self, user: str = ADMIN, password: str = PASSWORD) -> requests.Session:
        """A requests session signed in through the sign-in form."""
        http = requests.Session()
        token = csrf_of(http.get(self.url + "/signin", timeout=10).text)
        answer = http.post(self.url + "/signin", data={"username": user, "password": password,
                                                       "csrf_token": token}, timeout=10, allow_redirects=False)
        assert answer.status_code == 303, answer.text[:500]
        return http


def csrf_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@contextlib.contextmanager
def running_console(configure, redis_url, sandbox, **env):
    """Real Redis + sandbox + the console on waitress (a free port), its callback as ETSY_REDIRECT_URI,
    one administrator (``ADMIN``/``PASSWORD``), the event recorder running. ``env``: more settings."""
    from etsyflow.admin import create_app
    from etsyflow.admin.recent import EventRecorder
    from etsyflow.admin.server import ConsoleServer
    from etsyflow.admin.users import AdminUsers
    from etsyflow.state import get_redis

    port = free_port()
    settings = configure(**{"REDIS_URL": redis_url, "ETSY_TIMEOUT_SECONDS": "2", "SHIPMENT_SETTLE_SECONDS": "1",
                            "ETSY_REDIRECT_URI": f"http://127.0.0.1:{port}/etsy/callback", **sandbox.env(), **env})
    redis = get_redis()
    AdminUsers(redis).add(ADMIN, PASSWORD)
    app = create_app(settings, redis=redis, host="127.0.0.1")
    server = ConsoleServer(app, "127.0.0.1", port).start()
    recorder = EventRecorder(redis).start()
    try:
        wait_for(lambda: _up(server.url), timeout=10, what="the console to answer")
        yield Console(server, app, redis, settings)
    finally:
        recorder.stop()
        server.stop()


@pytest.fixture
def console(configure, redis_url, sandbox):
    with running_console(configure, redis_url, sandbox) as running:
        yield running


def _up(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _browser_paths() -> tuple[str | None, str | None]:
    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                  None)
    return binary, shutil.which("chromedriver")


@pytest.fixture
def browser():
    """Headless Chromium (a fresh profile) through Selenium; 1280×900."""
    binary, driver_path = _browser_paths()
    require_service(bool(binary and driver_path), "Chromium and chromedriver (apt-get install chromium "
                                                  "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="etsyflow-chromium-")
    options = webdriver.ChromeOptions()
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    options.binary_location = binary
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def screenshots():
    """Where to save screenshots (``ETSYFLOW_SCREENSHOTS=dir``), else None: the README's pictures."""
    target = os.environ.get("ETSYFLOW_SCREENSHOTS")
    if target:
        os.makedirs(target, exist_ok=True)
    return target


def wait_out_settle(shop_id: int, receipt_id: int, tracking_number: str) -> None:
    """Wait until etsyflow would write a parcel again after a failed write.

    A new parcel is written first; when that write failed, its outcome is
    unknown, so etsyflow gives Etsy the settle time (WRITE_SETTLE_SECONDS)
    before writing again. A dead letter replayed earlier is told to retry
    later, which a message sent with ``max_retries=0`` cannot do."""
    import time

    from etsyflow.config import get_settings
    from etsyflow.fulfilment.ledger import ParcelLedger, parcel_ref

    ledger = ParcelLedger()
    record = ledger.get(ledger.record_key(shop_id, receipt_id, parcel_ref(tracking_number, None)))
    ended = (record.attempt_ended_at or 0) if record else 0
    settle = get_settings().write_settle_seconds
    wait_for(lambda: time.time() > ended + settle, timeout=settle + 10, what="the settle time of the failed write")
