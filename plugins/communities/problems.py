"""Problems are values: every stage returns them, only the command line prints them.

One shape for every error and warning (after yamllint's LintProblem), so the text,
JSON and GitHub-annotation reports are three views of the same list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    field: str
    message: str
    hint: str = ""
    level: str = ERROR
    rule: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == ERROR


def count(problems: Iterable[Problem]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = warnings = 0
    for problem in problems:
        if problem.is_error:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def format_text(problem: Problem) -> str:
    """`path:line:col: error: field: message` and an indented hint line."""
    where = f"{problem.path}:{problem.line}:{problem.col}"
    field = f"{problem.field}: " if problem.field else ""
    text = f"{where}: {problem.level}: {field}{problem.message}"
    if problem.hint:
        text += f"\n    hint: {problem.hint}"
    return text


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(problem: Problem) -> str:
    """A workflow command, so the problem shows on the pull request's diff."""
    title = problem.field or "record"
    message = problem.message + (f" Hint: {problem.hint}" if problem.hint else "")
    props = ",".join(
        [
            f"file={_escape_property(problem.path)}",
            f"line={problem.line}",
            f"col={problem.col}",
            f"title={_escape_property(title)}",
        ]
    )
    return f"::{problem.level} {props}::{_escape_data(message)}"


def format_json(problems: list[Problem], records: int) -> str:
    errors, warnings = count(problems)
    return json.dumps(
        {
            "records": records,
            "errors": errors,
            "warnings": warnings,
            "problems": [asdict(p) for p in problems],
        },
        indent=2,
        ensure_ascii=False,
    )


def summary_line(records: int, problems: list[Problem]) -> str:
    errors, warnings = count(problems)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}" + ("" if n == 1 else "s")

    return ", ".join(
        [plural(records, "record"), plural(errors, "error"), plural(warnings, "warning")]
    )
