"""The sandbox is its own distribution: etsyflow never imports it, a production
install does not contain it, and ``etsyflow sandbox`` says how to get it."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_product_code_never_imports_the_sandbox():
    importers = []
    for path in (ROOT / "etsyflow").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "etsy_sandbox" or name.startswith("etsy_sandbox.") for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_the_sandbox_never_imports_etsyflow():
    importers = []
    for path in (ROOT / "sandbox" / "etsy_sandbox").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "etsyflow" for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_a_production_wheel_has_no_sandbox(tmp_path):
    # Built from a clean copy: pip builds in the source tree, and a build/ left there could hide or add files.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                                                "__pycache__", ".pytest_cache", ".hypothesis"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = tmp_path.glob("etsyflow-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("etsyflow/") for name in names)
    assert [name for name in names if "sandbox" in name.split("/")[0] or name.startswith("etsy_sandbox")] == []


def test_etsyflow_sandbox_says_how_to_install_the_sandbox_when_it_is_missing(tmp_path):
    # An interpreter that cannot find etsy_sandbox (as after `pip install .` alone), no etsy-sandbox on PATH.
    hide = ("import sys, importlib.util\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if 'etsy_sandbox' not in repr(f)]  # its editable finder\n"
            "assert importlib.util.find_spec('etsy_sandbox') is None, 'cannot hide the sandbox here'\n"
            "from etsyflow.cli import main\n"
            "main(['sandbox', '--port', '0'])\n")
    done = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": str(tmp_path)})
    assert done.returncode != 0
    assert "pip install ./sandbox" in done.stderr, done.stderr[-2000:]


def test_the_sandbox_wheel_carries_its_facts_file_and_command(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT / "sandbox", source, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info",
                                                                           "__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = tmp_path.glob("etsy_sandbox-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    assert {"etsy_sandbox/data/etsy-openapi-facts.json", "etsy_sandbox/data/carriers.json"} <= set(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "etsy-sandbox = etsy_sandbox.cli:main" in archive.read(entry_points).decode()
