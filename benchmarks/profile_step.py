"""Profile one scripts/build or scripts/validate run with pyinstrument: profile_step.py SITE TREE.txt SUMMARY.json build|validate ARGS...

Writes pyinstrument's call tree to TREE.txt and the top functions (own time, and total
time counted once per call stack) to SUMMARY.json for benchmarks/harness.py to render.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

TOP = 12


def _name(frame) -> str:
    path = frame.file_path_short or frame.file_path or ""
    return f"{frame.function} ({path}:{frame.line_no})"


def summarise(root) -> dict:
    own: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)

    def walk(frame, ancestors: frozenset[str]) -> None:
        key = _name(frame)
        if not frame.is_synthetic:
            own[key] += frame.total_self_time
            if key not in ancestors:
                total[key] += frame.time
        for child in frame.children:
            walk(child, ancestors | {key})

    walk(root, frozenset())
    whole = root.time
    cumulative = [(t, k) for k, t in total.items() if t < 0.9 * whole]  # the entry points say nothing
    return {
        "total": whole,
        "self": sorted(((round(t, 3), k) for k, t in own.items()), reverse=True)[:TOP],
        "cumulative": sorted(((round(t, 3), k) for t, k in cumulative), reverse=True)[:TOP],
    }


def main(argv: list[str]) -> int:
    site, tree_path, summary_path, command, *args = argv
    sys.path.insert(0, str(Path(site) / "plugins"))
    from communities.build_cli import build_main
    from communities.cli import validate_main
    from pyinstrument import Profiler

    entry = {"build": build_main, "validate": validate_main}[command]
    profiler = Profiler(interval=0.002)
    profiler.start()
    try:
        code = entry(args)
    finally:
        profiler.stop()
    Path(tree_path).write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    Path(summary_path).write_text(json.dumps(summarise(profiler.last_session.root_frame())), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
