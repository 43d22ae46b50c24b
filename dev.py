#!/usr/bin/env python3
"""Set up and run etsyflow from a fresh clone, with nothing but Python 3.11+.

    python3 dev.py demo    # create .venv, install, run the whole flow on embedded defaults
    python3 dev.py test    # create .venv, install, run the whole test suite
    python3 dev.py bench NAME  # run bench/NAME.py (pipeline, ratelimit, listings, orders, fulfilment, republish, sync_listings)
    python3 dev.py constraints # re-pin constraints.txt to the newest versions (then run the tests)

Installs are pinned by constraints.txt (the exact versions the suite was last
run with), so a fresh clone, CI and production get what was tested.

Written with the standard library only, because it runs before anything is
installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".etsyflow-installed"
CONSTRAINTS = ROOT / "constraints.txt"


def sh(*args, **kwargs) -> int:
    print("+", " ".join(map(str, args)), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, **kwargs)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"etsyflow needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        if sh(sys.executable, "-m", "venv", VENV) != 0:
            sys.exit("could not create .venv (on Debian/Ubuntu: apt-get install python3-venv)")
    pinned = CONSTRAINTS.read_bytes() if CONSTRAINTS.exists() else b""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()
                            + (ROOT / "sandbox" / "pyproject.toml").read_bytes() + pinned).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    constraints = ["-c", CONSTRAINTS] if CONSTRAINTS.exists() else []
    # Two distributions: etsyflow (the product) and etsy-sandbox (./sandbox, the local Etsy
    # stand-in that the demo and the tests run; a production install leaves it out).
    if sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *constraints, "-e", "./sandbox",
          "-e", ".[test]") != 0:
        sys.exit("pip install failed")
    STAMP.write_text(wanted)


def pin_constraints() -> int:
    """Write constraints.txt: the newest versions pip picks for .[test], in a fresh venv."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="etsyflow-pin-") as tmp:
        venv = Path(tmp) / "venv"
        py = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
        if sh(sys.executable, "-m", "venv", venv) != 0 or sh(
                py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", "./sandbox",
                "-e", ".[test]") != 0:
            return 1
        frozen = subprocess.run([str(py), "-m", "pip", "freeze", "--exclude-editable"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    lines = [line for line in frozen.splitlines() if line and not line.startswith("#")]
    CONSTRAINTS.write_text("# Exact versions etsyflow is tested with. Regenerate: python3 dev.py constraints\n"
                           "# (then python3 dev.py test). Install: pip install -c constraints.txt .\n"
                           + "\n".join(sorted(lines, key=str.lower)) + "\n")
    print(f"wrote {CONSTRAINTS.name} ({len(lines)} packages); now run: python3 dev.py test", flush=True)
    return 0


def redis_up(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis() -> None:
    """Start a throwaway local Redis when none answers and the server is installed."""
    if redis_up():
        return
    server = shutil.which("redis-server")
    if server is None:
        print("! no Redis on 127.0.0.1:6379 and no redis-server installed: integration tests will be "
              "skipped (install Redis to run them)", flush=True)
        return
    subprocess.call([server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
                     "--appendonly", "no"], cwd=ROOT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not redis_up():
        time.sleep(0.2)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "demo":
        ensure_venv()
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "BROKER_URL", "EVENTS_URL", "ETSY_API_URL")}
        return sh(BIN / "etsyflow", "demo", *argv[1:], env=env)
    if command == "test":
        ensure_venv()
        ensure_redis()
        code = sh(PY, "-m", "pytest", *argv[1:])
        if code == 5:
            print("! pytest collected no tests: that is a failure here", flush=True)
            return 1
        return code
    if command == "constraints":
        return pin_constraints()
    if command == "bench":
        ensure_venv()
        ensure_redis()
        if len(argv) < 2:
            sys.exit("usage: python3 dev.py bench NAME  (a file in bench/)")
        return sh(PY, ROOT / "bench" / f"{argv[1]}.py", *argv[2:])
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
