"""Write a file whole or not at all: into a temporary file beside it, then rename."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _flush_to_disk(path: Path) -> None:
    """Ask the OS to put the file's bytes on disk, so a rename after a power cut never points
    at an empty file (a kill -9 alone cannot lose written bytes, a power cut can)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


class NoSpaceError(OSError):
    """The disk filled up while a file was written; nothing was left under its name."""


def _no_space(path: Path) -> NoSpaceError:
    """ENOSPC told with the file it hit and what to do (`file` names it in job failure lines)."""
    error = NoSpaceError(
        errno.ENOSPC,
        f"no space left on device while writing {path} (nothing was written under that name); "
        f"free space on the disk holding {path.parent} (`df -h {path.parent}`) and run again",
    )
    error.file = str(path)  # type: ignore[attr-defined]
    return error


# A file being written is `.<name>.<random>.tmp` beside its target (mkstemp's prefix and suffix).
PARTIAL_PREFIX = "."
PARTIAL_SUFFIX = ".tmp"


def is_partial(path: Path | str) -> bool:
    """Whether `path` is named as atomic_write names a file it has not finished."""
    name = Path(path).name
    return name.startswith(PARTIAL_PREFIX) and name.endswith(PARTIAL_SUFFIX)


#: The empty file Snakemake writes into each `directory()` output to carry its time.
SNAKEMAKE_FOLDER_MARK = ".snakemake_timestamp"


def is_folder_mark(path: Path) -> bool:
    """Snakemake's own empty mark in a folder output: not a file of the run's results."""
    return path.name == SNAKEMAKE_FOLDER_MARK and path.stat().st_size == 0


def remove_partial_files(folder: Path | str) -> list[Path]:
    """Delete the half-written files a killed run left under `folder` (none while a run of
    this folder is writing: call it before one starts); returns them."""
    found = sorted(p for p in Path(folder).rglob(f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}"))
    removed = [p for p in found if p.is_file() and is_partial(p)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def atomic_write(path: Path | str, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary file in the same folder, then rename it to `path`, so
    a reader (or a killed run) never sees a half-written file. The file gets the usual
    permissions for new files (0666 less the umask), not mkstemp's owner-only 0600, so
    colleagues sharing the results folder can read it.

    A run killed mid-write leaves at most a hidden `.<name>.*.tmp` beside the target (which
    `wps audit` reports and the next run deletes), never a truncated file under the final
    name. A full disk raises `NoSpaceError` (an OSError) naming the file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f"{PARTIAL_PREFIX}{path.name}.", suffix=PARTIAL_SUFFIX
    )
    os.close(fd)
    try:
        write(Path(tmp))
        _flush_to_disk(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise _no_space(path) from exc
        raise
    return path
