"""Two tiers of outputs, defined here and nowhere else: what may be shared, what may not.

As statistical offices keep them:

* **restricted**: row-level tables and anything else that could single a person out. It never
  leaves the analyst's machine: written owner-only (files 0600, wholly restricted folders 0700)
  and never embedded in the Snakemake report (the manifest and RO-Crate name them by path and
  hash only, for the lineage; never their content).
* **shared**: everything else under results/ (briefs, published tables, figures, the report, the
  crate); each shared table has passed disclosure control (`analysis.disclosure`).

Paths are matched relative to the results folder (`results/` by default), with `/` separators.
Adapters write restricted outputs inside `owner_only()` and call `protect()` on them; the audit
calls `check_tiers()`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from analysis.ingest.discover import wave_files

RESTRICTED = "restricted"
SHARED = "shared"

# Folders under results/ that hold only restricted files (every file in them, at any depth).
RESTRICTED_FOLDERS = (
    "ingest",  # raw rows, direct identifiers included (temporary)
    "validated",  # valid raw rows, direct identifiers included (temporary)
    "quarantine",  # raw rows' problems, by row number
    "clean",  # row-level cleaned tables (pseudonymised, still one row per person)
)
# Restricted files in folders that also hold shared files: tables with cells of one to a few
# people, and quotes no person has reviewed yet.
RESTRICTED_FILES = (
    "interviews/*/*/frequencies.csv",  # interviewees per code and group, unprotected
    "interviews/*/*/cooccurrence.csv",  # interviewees per pair of codes, unprotected
    "interviews/*/*/sex_differences.csv",  # survivors by sex, 0-4 men
    "interviews/*/*/reliability.csv",  # interviews per code and coder, unprotected
    "interviews/*/*/quotes.csv",  # quote bank: quotes a person approved, with group labels
    "interviews/*/*/quote_review.csv",  # every candidate quote, redacted, for a person's review
    "interviews/*/*/quotes_excluded.csv",  # quotes set aside, with reasons
    "tables/*/*/attrition.csv",  # training drop-outs by reason, n = 1 cells
    "logs/prepare_wave/*/*.quarantine.csv",  # the quarantine of a wave refused for 0 valid rows
)
# Temporary tables with direct identifiers: deleted once cleaning has run.
IDENTIFIER_FOLDERS = ("ingest", "validated")
IDENTIFIER_SUFFIXES = (".meta.json", ".parquet")

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700
NOT_OWNER_BITS = 0o077


def _relative(path: Path | str) -> PurePosixPath:
    return PurePosixPath(Path(path).as_posix())


def tier_of(relative: Path | str) -> str:
    """`restricted` or `shared` for a path relative to the results folder (`clean/x/2025.csv`).

    A path with a leading `results/` (the default results folder) is accepted too.
    """
    rel = _relative(relative)
    parts = rel.parts[1:] if rel.parts[:1] == ("results",) else rel.parts
    if not parts:
        return SHARED
    if parts[0] in RESTRICTED_FOLDERS:
        return RESTRICTED
    text = "/".join(parts)
    if any(fnmatch.fnmatchcase(text, pattern) for pattern in RESTRICTED_FILES):
        return RESTRICTED
    return SHARED


def is_restricted(relative: Path | str) -> bool:
    """True when the path (relative to the results folder) is in the restricted tier."""
    return tier_of(relative) == RESTRICTED


@contextlib.contextmanager
def owner_only() -> Iterator[None]:
    """Within the block, new files are 0600 and new folders 0700 (umask 077).

    The atomic writer (`analysis.atomic`) gives each file 0666 less the umask, so a restricted
    file is owner-only from the moment it appears under its name; `write_ingested`, which writes
    directly, is covered too. Restores the previous umask on exit.
    """
    previous = os.umask(NOT_OWNER_BITS)
    try:
        yield
    finally:
        os.umask(previous)


def _restricted_folders_of(path: Path, results_dir: Path) -> list[Path]:
    """The folders between `results_dir` and `path` that lie inside a restricted folder."""
    try:
        rel = path.resolve().relative_to(results_dir.resolve())
    except ValueError:
        return []
    if not rel.parts or rel.parts[0] not in RESTRICTED_FOLDERS:
        return []
    folders = [results_dir / Path(*rel.parts[:i]) for i in range(1, len(rel.parts))]
    return [f for f in folders if f.is_dir()]


def protect(path: Path | str, results_dir: Path | str = "results") -> None:
    """Make a written restricted file owner-only (0600), and every folder it lies in below a
    restricted folder (e.g. results/ingest and results/ingest/<dataset>) 0700.

    Snakemake creates output folders before a job runs, with the usual 0755; this tightens them.
    """
    path = Path(path)
    if path.exists():
        os.chmod(path, OWNER_ONLY_FILE)
    for folder in _restricted_folders_of(path, Path(results_dir)):
        os.chmod(folder, OWNER_ONLY_FOLDER)


def protect_outputs(paths: Iterable[str | Path], results_dir: Path | str = "results") -> list[Path]:
    """`protect()` each of a job's output files that is in the restricted tier; returns them.

    For adapters whose outputs mix tiers (interview tables, training tables): call it once after
    writing, with `snakemake.output`.
    """
    results = Path(results_dir).resolve()
    protected = []
    for path in map(Path, paths):
        try:
            rel = path.resolve().relative_to(results)
        except ValueError:
            continue
        if is_restricted(rel):
            protect(path, results)
            protected.append(path)
    return protected


def protect_tree(results_dir: Path | str = "results") -> list[Path]:
    """Make every restricted file under `results_dir` 0600 and every folder of a restricted
    folder 0700; returns what was changed. The workflow calls it when a run ends (success or
    error), as a safety net behind the adapters' own `protect()` calls."""
    results = Path(results_dir)
    changed = []
    if not results.is_dir():
        return changed
    for path in sorted(results.rglob("*")):
        rel = path.relative_to(results).as_posix()
        if path.is_symlink() or not is_restricted(rel):
            continue
        wanted = OWNER_ONLY_FOLDER if path.is_dir() else OWNER_ONLY_FILE
        if path.is_dir() and rel.split("/")[0] not in RESTRICTED_FOLDERS:
            continue
        if _mode(path) & NOT_OWNER_BITS:
            os.chmod(path, wanted)
            changed.append(path)
    return changed


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _permission_problems(results_dir: Path) -> list[str]:
    problems = []
    for path in sorted(results_dir.rglob("*")):
        rel = path.relative_to(results_dir).as_posix()
        if path.is_symlink() or not is_restricted(rel):
            continue
        mode = _mode(path)
        if path.is_dir() and rel.split("/")[0] in RESTRICTED_FOLDERS and mode & NOT_OWNER_BITS:
            problems.append(
                f"RESTRICTED {results_dir.name}/{rel}: folder of restricted files is open to "
                f"others (mode {mode:04o}); chmod 700 it"
            )
        elif path.is_file() and mode & NOT_OWNER_BITS:
            problems.append(
                f"RESTRICTED {results_dir.name}/{rel}: restricted file is readable or writable "
                f"by others (mode {mode:04o}); chmod 600 it"
            )
    return problems


def leftover_identifier_tables(results_dir: Path, raw_dir: Path) -> list[Path]:
    """Ingested or validated tables (raw rows with names and phones) of a wave or dataset whose
    raw file no longer exists: Snakemake only deletes temp() files of waves it still knows."""
    leftovers = []
    for folder in IDENTIFIER_FOLDERS:
        base = results_dir / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base)
            dataset = rel.parts[0] if len(rel.parts) > 1 else ""
            if not dataset or _wave_of(path.name) not in wave_files(raw_dir / dataset):
                leftovers.append(path)
    return leftovers


def _wave_of(name: str) -> str | None:
    """The wave of an ingested/validated file name; None for a half-written temporary file."""
    if name.startswith("."):  # the atomic writer's temporary file, left by a kill
        return None
    for suffix in IDENTIFIER_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def remove_leftover_identifier_tables(results_dir: Path | str, raw_dir: Path | str) -> list[Path]:
    """Delete the tables `leftover_identifier_tables` finds; returns what was deleted."""
    removed = leftover_identifier_tables(Path(results_dir), Path(raw_dir))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def identifier_tables(results_dir: Path) -> list[Path]:
    """Every file under the ingested and validated folders (raw rows, direct identifiers)."""
    found: list[Path] = []
    for folder in IDENTIFIER_FOLDERS:
        base = results_dir / folder
        if base.is_dir():
            found += sorted(p for p in base.rglob("*") if p.is_file())
    return found


def check_tiers(results_dir: Path | str, raw_dir: Path | str | None = None) -> list[str]:
    """Problems with the restricted tier under a finished run's `results_dir` (empty: all well).

    Restricted files must be owner-only, and folders wholly restricted 0700. No ingested or
    validated table (raw rows, direct identifiers) may remain once a run has finished: those of
    a wave whose raw file is gone are named as such (Snakemake never deletes them), the others
    were left by a killed or failed run. `raw_dir` defaults to `data/raw` beside the results.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return []
    raw = Path(raw_dir) if raw_dir is not None else results_dir.parent / "data" / "raw"
    problems = _permission_problems(results_dir)
    vanished = set(leftover_identifier_tables(results_dir, raw))
    for path in identifier_tables(results_dir):
        rel = path.relative_to(results_dir).as_posix()
        why = (
            f"from a wave that no longer exists in {raw}; delete it (rm {path})"
            if path in vanished
            else "left by a killed or failed run; finish the run (make run) or delete it "
            f"(rm {path})"
        )
        problems.append(
            f"LEFTOVER {results_dir.name}/{rel}: raw rows with direct identifiers {why}"
        )
    return problems
