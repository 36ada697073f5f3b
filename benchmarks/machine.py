"""What the figures were measured on: cores, Python, platform, memory, project commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def core_count() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def total_memory_gb() -> float | None:
    """Physical memory in GB from /proc/meminfo, or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        return None
    return None


def git_commit(root: Path) -> str | None:
    """The project's HEAD commit, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def describe(root: Path) -> dict[str, Any]:
    """The machine block of results.json."""
    return {
        "cores": core_count(),
        "memory_gb": total_memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "git_commit": git_commit(root),
    }
