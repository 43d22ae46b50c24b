"""The local Etsy sandbox in a process of its own, for benchmarks.

Etsy is remote: its work does not take CPU from the workers, and a request
reaches it a network hop after it is sent. A sandbox run as threads of the
benchmark's own process shares one GIL with eight worker threads, so a
request may wait tens of milliseconds for the sandbox's thread to be
scheduled before Etsy "sees" it, more than any kept-alive connection adds.
In a process of its own it behaves like the remote Etsy. Spoken to over HTTP
only (the admin API), as a test speaks to Etsy.
"""

from __future__ import annotations

import contextlib
import multiprocessing

#: Bounded waits (seconds).
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10


def _serve(config: dict, conn) -> None:
    from etsy_sandbox.testing import run_sandbox

    with run_sandbox(**config) as sandbox:
        conn.send({"env": sandbox.env(), "url": sandbox.url})
        try:
            conn.recv()  # until the parent says stop, or goes away (EOFError)
        except EOFError:
            pass


class RemoteSandbox:
    """What the benchmarks use of a sandbox: its environment for etsyflow and its admin API."""

    def __init__(self, info: dict):
        from etsy_sandbox.testing import AdminClient

        self.url = info["url"]
        self._env = info["env"]
        self.admin = AdminClient(self.url)

    def env(self) -> dict[str, str]:
        return dict(self._env)


@contextlib.contextmanager
def sandbox_process(**config):
    """Run a sandbox (``config``: SandboxConfig fields) in a child process; yields a :class:`RemoteSandbox`."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(config, child), daemon=True)
    process.start()
    try:
        if not parent.poll(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the sandbox process did not start within {START_TIMEOUT_SECONDS} s")
        yield RemoteSandbox(parent.recv())
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        process.join(STOP_TIMEOUT_SECONDS)
        if process.is_alive():
            process.terminate()
            process.join(STOP_TIMEOUT_SECONDS)
