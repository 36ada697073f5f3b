"""Find the waves of each dataset: a dataset is a folder, a wave is a file in it."""

from __future__ import annotations

from pathlib import Path

WAVE_EXTENSIONS = (".sav", ".zsav", ".dta", ".sas7bdat", ".xpt", ".por", ".xlsx", ".csv")


def is_wave_file(path: Path) -> bool:
    """A wave file has a data extension; codebooks, hidden and lock files are not waves."""
    name = path.name
    return (
        path.is_file()
        and path.suffix.lower() in WAVE_EXTENSIONS
        and not name.startswith((".", "~$", "_"))
        and not path.stem.lower().startswith("codebook")
    )


def wave_files(dataset_dir: Path) -> dict[str, Path]:
    """Map wave name (file stem) to file, sorted by wave; two files with one stem is an error."""
    found: dict[str, Path] = {}
    if not dataset_dir.is_dir():
        return found
    for path in sorted(dataset_dir.iterdir()):
        if not is_wave_file(path):
            continue
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
