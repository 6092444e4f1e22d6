"""Make `scripts/NAME` work however it is started, with no traceback.

A contributor may run `scripts/validate` with the system Python, which lacks the
project's dependencies. If the project's .venv exists, run again with it;
otherwise say in one line how to set up. Standard library only: it runs first.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

NEEDED = ("yaml", "jsonschema", "jsonschema_rs")


def ensure_dependencies(script: str) -> None:
    """Re-run `script` with the project's virtual environment when this Python lacks the dependencies."""
    if all(importlib.util.find_spec(name) for name in NEEDED):
        return
    root = Path(script).resolve().parent.parent
    venv_python = root / ".venv" / "bin" / "python"
    # Compare environments, not executables: a venv's python is often a link to the system one.
    if venv_python.exists() and Path(sys.prefix).resolve() != (root / ".venv").resolve():
        os.execv(str(venv_python), [str(venv_python), script, *sys.argv[1:]])
    print(f"error: the tools are not installed yet. Run `make site` once in {root}, "
          f"then `.venv/bin/python scripts/{Path(script).name} ...`.", file=sys.stderr)
    raise SystemExit(2)
