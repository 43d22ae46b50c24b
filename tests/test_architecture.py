"""The layers hold: ``lint-imports`` (import-linter, contracts in pyproject.toml) passes.

Entry points > workers (the only Dramatiq code) > domain > Etsy client and
schemas > messages, config, state. See README "Architecture".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists(), f"{lint} missing: install the test extra (pip install -e '.[test]')"
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout


def test_adding_an_inbound_type_is_one_entry_and_one_handler():
    """Every contract entry has a schema, actor options and a handler; nothing else lists the types."""
    from etsyflow.messages.contract import CONTRACT, INBOUND
    from etsyflow.schemas.events import INBOUND_SCHEMAS
    from etsyflow.workers import registry
    from etsyflow.workers.actors import setup  # noqa: F401  (imports every handler module)
    from etsyflow.workers.options import ACTOR_OPTIONS

    assert set(CONTRACT) == INBOUND == set(INBOUND_SCHEMAS) == set(ACTOR_OPTIONS) == set(registry.handlers())
