"""Shared fixtures: the project root, settings, and a site built once per test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from communities import cli  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def conf() -> dict:
    """The project's settings, with today pinned so date rules are stable."""
    settings = cli.load_settings()
    settings["COMMUNITIES_TODAY"] = "2026-11-24"
    return settings


def build_site(output: Path, communities: Path | None = None, *extra: str) -> subprocess.CompletedProcess:
    """Run scripts/build as a contributor would, into `output`."""
    args = [sys.executable, str(ROOT / "scripts" / "build"), "--output", str(output)]
    if communities:
        args += ["--communities", str(communities)]
    return subprocess.run([*args, *extra], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded example data, built once (with the search index) for every test that reads output."""
    output = tmp_path_factory.mktemp("site")
    result = build_site(output)
    assert result.returncode == 0, result.stdout + result.stderr
    return output
