"""Scripts started with a Python that lacks the dependencies: re-run in .venv, or say how to set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from communities import bootstrap


def _missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap.importlib.util, "find_spec", lambda name: None)


def test_without_a_venv_it_says_how_to_set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _missing(monkeypatch)
    (tmp_path / "scripts").mkdir()
    with pytest.raises(SystemExit) as stopped:
        bootstrap.ensure_dependencies(str(tmp_path / "scripts" / "validate"))
    assert stopped.value.code == 2
    assert "Run `make site` once" in capsys.readouterr().err


def test_with_a_venv_it_runs_again_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _missing(monkeypatch)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("", encoding="utf-8")
    calls = []

    class Replaced(Exception):
        """os.execv never returns: the process becomes the venv's python."""

    def execv(exe: str, argv: list[str]) -> None:
        calls.append((exe, argv))
        raise Replaced

    monkeypatch.setattr(bootstrap.os, "execv", execv)
    monkeypatch.setattr(bootstrap.sys, "argv", ["scripts/validate", "--format", "github"])
    with pytest.raises(Replaced):
        bootstrap.ensure_dependencies(str(tmp_path / "scripts" / "validate"))
    assert calls == [(str(python), [str(python), str(tmp_path / "scripts" / "validate"), "--format", "github"])]


def test_with_the_dependencies_it_does_nothing(tmp_path: Path) -> None:
    assert bootstrap.ensure_dependencies(str(tmp_path / "scripts" / "validate")) is None
