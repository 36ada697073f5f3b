"""What the figures were measured on: cores, Python, platform, memory, project commit."""

from __future__ import annotations

import os
import platform
import resource
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


def cpu_seconds(*, own: bool = True) -> float:
    """CPU seconds (user + system) of this process's finished children and theirs, and, with
    `own`, of this process's threads too."""
    who = (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF) if own else (resource.RUSAGE_CHILDREN,)
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, who))


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
