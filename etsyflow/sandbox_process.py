"""Start the local Etsy sandbox, a separate program, from etsyflow's entry points.

The sandbox is its own distribution, ``etsy-sandbox`` (``./sandbox`` in the
repository), which a production install does not include. etsyflow never
imports it: ``etsyflow sandbox`` and the demo run it as a program
(``python -m etsy_sandbox``) with the same interpreter, found without
importing it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

import requests

INSTALL_HINT = ("the Etsy sandbox is not installed: run `pip install ./sandbox` from the etsyflow repository "
                "(or `python3 dev.py demo`, which installs it)")
DEFAULT_KEYSTRING = "sandboxkey"  # the sandbox's own defaults (etsyflow cannot import them)
DEFAULT_SHARED_SECRET = "sandboxsecret"


class SandboxMissing(RuntimeError):
    """The ``etsy-sandbox`` package is not installed."""


def sandbox_program() -> list[str]:
    """The command that runs the sandbox (same interpreter first), or SandboxMissing."""
    # find_spec locates the package without importing it.
    if importlib.util.find_spec("etsy_sandbox") is not None:
        return [sys.executable, "-m", "etsy_sandbox"]
    found = shutil.which("etsy-sandbox")
    if found:
        return [found]
    raise SandboxMissing(INSTALL_HINT)


@dataclass
class RunningSandbox:
    """A sandbox started as a child process; ``url`` is the value for ``ETSY_API_URL``."""

    url: str
    keystring: str
    shared_secret: str
    process: subprocess.Popen

    @property
    def authorize_url(self) -> str:
        return self.url + "/oauth/connect"

    def env(self) -> dict[str, str]:
        return {"ETSY_API_URL": self.url, "ETSY_AUTHORIZE_URL": self.authorize_url,
                "ETSY_KEYSTRING": self.keystring, "ETSY_SHARED_SECRET": self.shared_secret}

    def admin(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0) -> dict:
        """One call of the sandbox's admin API (``/_sandbox`` + ``path``); raises on an error answer."""
        response = requests.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=timeout)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox admin {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else {}


@contextlib.contextmanager
def running_sandbox(*options: str, keystring: str = DEFAULT_KEYSTRING, shared_secret: str = DEFAULT_SHARED_SECRET,
                    start_timeout_seconds: float = 30.0):
    """Start ``etsy-sandbox --port 0 OPTIONS`` and stop it (SIGTERM, then kill after 5 s) on exit."""
    argv = sandbox_program() + ["--host", "127.0.0.1", "--port", "0", *options]
    # Keystring and secret go through the environment, never the command line.
    env = {**os.environ, "ETSY_KEYSTRING": keystring, "ETSY_SHARED_SECRET": shared_secret}
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue = queue.Queue()

    def read():  # drains stderr so the child never blocks on a full pipe
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True, name="etsy-sandbox-stderr").start()
    try:
        url, said = None, []
        while url is None:
            try:
                line = lines.get(timeout=start_timeout_seconds)
            except queue.Empty:
                raise TimeoutError(f"the sandbox did not start within {start_timeout_seconds} s") from None
            if line is None:
                raise RuntimeError("the sandbox stopped at start: " + "".join(said)[-1000:])
            said.append(line)
            match = re.search(r"Etsy sandbox on (http://\S+)", line)
            url = match.group(1) if match else None
        yield RunningSandbox(url, keystring, shared_secret, process)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

