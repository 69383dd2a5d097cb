"""Optional: sample the server with py-spy during a measurement and list the hotspots.

py-spy is not a project dependency: it is looked for on PATH, beside this Python, and in
BALIE_BENCH_PYSPY. Without it, `--profile` says so and the benchmark runs unprofiled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import RESULTS

_PREFIX = re.compile(r"^.*/(site-packages|src|python3\.\d+)/")


def find_py_spy() -> str | None:
    candidates = [os.environ.get("BALIE_BENCH_PYSPY"), str(Path(sys.executable).parent / "py-spy"),
                  shutil.which("py-spy")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


class Profiler:
    """`py-spy record --format raw` over a pid for a fixed duration (it stops by itself)."""

    def __init__(self, pid: int, duration: float, out: Path, *, gil_only: bool = False) -> None:
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None
        self.error: str | None = None
        py_spy = find_py_spy()
        if py_spy is None:
            self.error = "py-spy not found (pip install py-spy, or set BALIE_BENCH_PYSPY)"
            return
        args = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(duration))),
                "--rate", "250", "--format", "raw", "--output", str(out), "--nonblocking"]
        if gil_only:
            args.append("--gil")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def finish(self, timeout: float = 60) -> dict[str, Any]:
        if self.proc is None:
            return {"error": self.error}
        try:
            _, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, stderr = self.proc.communicate()
        if not self.out.exists():
            return {"error": f"py-spy wrote nothing: {stderr.decode(errors='replace')[-500:]}"}
        return hotspots(self.out)


def sample(enabled: bool, pid: int, seconds: float, name: str) -> Profiler | None:
    """A GIL-holding profile of `pid` into bench/results/profile-<name>.txt, when `enabled`."""
    if not enabled:
        return None
    out = RESULTS / f"profile-{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    return Profiler(pid, seconds, out, gil_only=True)


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"; drop the line number.
    name, _, where = frame.partition(" (")
    where = _PREFIX.sub("", where.rstrip(")").rsplit(":", 1)[0])
    return f"{name} ({where})"


def hotspots(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive sample shares per function, and shares per area (package)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        leaf = frames[-1]
        if any(word in leaf for word in ("select (", "_worker (", "wait (", "run_forever (", "poll (")):
            idle += count
        own[leaf] += count
        for frame in set(frames):
            inclusive[frame] += count
        areas[_area(frames)] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)] if total else []

    return {
        "samples": total,
        "idle_samples_pct": round(100 * idle / total, 1) if total else 0.0,
        "self": shares(own),
        "inclusive": shares(inclusive),
        "by_area": shares(areas),
    }


def _area(frames: list[str]) -> str:
    """Which layer a sample's leaf belongs to: the innermost frame that names a known package."""
    for frame in reversed(frames):
        where = frame.rsplit("(", 1)[-1]
        for prefix, area in (
            ("psycopg", "psycopg (driver)"), ("sqlalchemy", "SQLAlchemy"), ("balie", "balie"),
            ("pydantic", "pydantic"), ("fastapi", "FastAPI"), ("starlette", "Starlette"),
            ("anyio", "anyio (threadpool)"), ("uvicorn", "uvicorn"), ("sqlite3", "sqlite3"),
            ("asyncio", "asyncio"), ("threading", "threading"), ("json", "json"),
        ):
            if where.startswith(prefix):
                return area
    return "other"
