"""Find the waves of each dataset: a dataset is a folder, a wave is a file in it.

Discovery refuses what it cannot trust: a link that leads out of the raw folder (its content
would be read, printed in errors and copied into results) and a data file whose name is not a
wave name (Snakemake could not match it, and nobody can tell which wave it is).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from analysis.errors import WpsInputError

WAVE_EXTENSIONS = (".sav", ".zsav", ".dta", ".sas7bdat", ".xpt", ".por", ".xlsx", ".csv")
# The `wave` wildcard constraint of the Snakefile: a wave name is a file stem like 2025,
# 2025-03 or 2025_pilot. Kept equal to the Snakefile's (a test checks).
WAVE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
WAVE_NAME = re.compile(WAVE_PATTERN)
IGNORED_PREFIXES = (".", "~$", "_")  # hidden, Office lock files, and files set aside by hand


def is_wave_file(path: Path) -> bool:
    """A wave file has a data extension; codebooks, hidden and lock files are not waves."""
    name = path.name
    return (
        path.is_file()
        and path.suffix.lower() in WAVE_EXTENSIONS
        and not name.startswith(IGNORED_PREFIXES)
        and not path.stem.lower().startswith("codebook")
    )


def is_inside(path: Path, folder: Path) -> bool:
    """True when `path`, with every link followed, lies inside `folder` (links followed too)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def check_inside_raw(path: Path, raw_root: Path, dataset: str = "") -> None:
    """Refuse a file or folder that is (or passes through) a link leading out of `raw_root`."""
    if is_inside(path, raw_root):
        return
    raise WpsInputError(
        f"this is a link to {os.path.realpath(path)}, outside the raw data folder {raw_root}; "
        "the workflow reads only files that are really in the raw data folder",
        dataset=dataset,
        file=path,
        hint=f"copy the file itself into {path.parent} (replacing the link), or remove the link",
    )


def check_wave_name(path: Path, dataset: str = "") -> None:
    """Refuse a data file whose stem is not a wave name (e.g. `2025 final (copy).csv`)."""
    if WAVE_NAME.fullmatch(path.stem):
        return
    raise WpsInputError(
        f"'{path.stem}' is not a wave name: a wave file is named <wave>{path.suffix}, where "
        f"<wave> matches {WAVE_PATTERN} (letters, digits, '_', '.', '-'; no spaces or "
        "brackets), e.g. 2025" + path.suffix,
        dataset=dataset,
        file=path,
        hint=(
            f"rename it (e.g. to 2025{path.suffix}), move it out of {path.parent}, or put '_' "
            "in front of its name to have it ignored"
        ),
    )


def wave_files(dataset_dir: Path, raw_root: Path | None = None) -> dict[str, Path]:
    """Map wave name (file stem) to file, sorted by wave; two files with one stem is an error.

    `raw_root` (default: the folder holding `dataset_dir`) is the raw data folder no file may
    lead out of. Raises WpsInputError for such a link and for a data file with a bad name.
    """
    dataset_dir = Path(dataset_dir)
    raw_root = dataset_dir.parent if raw_root is None else Path(raw_root)
    found: dict[str, Path] = {}
    if not dataset_dir.is_dir():
        return found
    dataset = dataset_dir.name
    check_inside_raw(dataset_dir, raw_root, dataset)
    for path in sorted(dataset_dir.iterdir()):
        if path.name.startswith(IGNORED_PREFIXES):
            continue
        check_inside_raw(path, raw_root, dataset)
        if not is_wave_file(path):
            continue
        check_wave_name(path, dataset)
        if path.stem in found:
            raise ValueError(
                f"{dataset_dir.name}: two files for wave '{path.stem}' in {dataset_dir}: "
                f"{found[path.stem].name} and {path.name}. What to do: keep one file per wave."
            )
        found[path.stem] = path
    return dict(sorted(found.items()))


def latest_wave(dataset_dir: Path) -> str | None:
    """The last wave in sort order (wave names sort chronologically: use years or ISO dates)."""
    waves = list(wave_files(dataset_dir))
    return waves[-1] if waves else None
