"""Supply chain (issue 12, item 10): every dependency pinned to the exact version
tested (dev.py and CI install with ``-c constraints.txt``), and nothing unused declared."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Distribution name → the module it provides (where they differ).
MODULES = {"requests-oauthlib": "requests_oauthlib", "prometheus_client": "prometheus_client",
           "openapi-core": "openapi_core", "argon2-cffi": "argon2", "etsy-python": "etsy_python"}
# Declared although no module imports them, and why.
NOT_IMPORTED = {"import-linter": "run as `lint-imports` by tests/test_architecture.py"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].strip()


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_declared_dependency_has_an_exact_pin():
    pins = _pins()
    missing = [d for d in _declared() if d.lower().replace("_", "-") not in pins]
    assert not missing, f"not pinned in constraints.txt: {missing} (python3 dev.py constraints)"


def test_every_declared_dependency_is_used():
    sources = "\n".join(p.read_text(errors="replace") for folder in ("etsyflow", "tests", "bench")
                        for p in (ROOT / folder).rglob("*.py"))
    unused = []
    for dist in _declared():
        module = MODULES.get(dist, dist.replace("-", "_").lower())
        if dist in NOT_IMPORTED:
            continue
        if not re.search(rf"^\s*(import|from)\s+{re.escape(module)}\b", sources, re.MULTILINE):
            unused.append(dist)
    assert not unused, f"declared but never imported: {unused}"

