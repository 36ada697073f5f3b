"""Raw inputs checked before a run: no link out of the raw folder, files as SHA256SUMS lists them.

`data/raw/SHA256SUMS` (`sha256sum` format, paths relative to `data/raw/`) records the raw files
as they were shipped or last accepted. The story, told on the console at the start of every
run (`snakemake`, `make run`):

- a listed file whose bytes differ is named with both checksums; the run goes on with the file
  as it is now (a new version of a wave is a normal event) but says what to do: restore the
  file if the change is not yours (`make example-data` for the bundled synthetic data), or
  record the new checksum with `sha256sum` if it is;
- a listed file that is gone, an unlisted file (a new wave) and an unreadable line are named
  the same way, one line each;
- a raw folder with no SHA256SUMS (a user's own data) is not checked, and nothing is said.

A link leading out of the raw folder is an error (analysis.ingest.discover), not a warning.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from analysis.hashing import sha256_path
from analysis.ingest.discover import IGNORED_PREFIXES, check_inside_raw, wave_files

CHECKSUMS = "SHA256SUMS"
NOT_CHECKSUMMED = (CHECKSUMS, "README.md")  # files the list does not cover
LINE = re.compile(r"^(?P<sha>[0-9a-fA-F]{64}) [ *](?P<path>.+)$")


@dataclass
class ChecksumReport:
    """What differs between a raw folder and its SHA256SUMS."""

    checksums: Path
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (path, listed, now)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.unlisted or self.unreadable)


def check_raw_links(raw_dir: Path | str) -> None:
    """Raise WpsInputError for any file or folder under `raw_dir` that links out of it."""
    raw_dir = Path(raw_dir)
    for folder, dirs, files in os.walk(raw_dir):
        for name in sorted(dirs + files):
            path = Path(folder) / name
            if path.is_symlink():
                check_inside_raw(path, raw_dir, dataset=path.relative_to(raw_dir).parts[0])


def check_wave_names(raw_dir: Path | str, datasets: Iterable[str] | None = None) -> None:
    """Raise WpsInputError for a data file in a dataset folder whose name is not a wave name.

    `datasets`: the dataset folders to look in (default: every folder of `raw_dir`).
    """
    raw_dir = Path(raw_dir)
    if datasets is None:
        datasets = [p.name for p in raw_dir.iterdir() if p.is_dir()]
    for name in sorted(datasets):
        if not name.startswith(IGNORED_PREFIXES):
            wave_files(raw_dir / name, raw_dir)


def read_checksums(path: Path) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """({relative path: sha256}, [(line number, line) that are not `<sha256>  <path>`])."""
    listed: dict[str, str] = {}
    unreadable: list[tuple[int, str]] = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = LINE.match(line.rstrip("\r"))
        rel = match["path"] if match else ""
        if not match or Path(rel).is_absolute() or ".." in Path(rel).parts:
            unreadable.append((number, line))
            continue
        listed[rel] = match["sha"].lower()
    return listed, unreadable


def present_files(raw_dir: Path) -> list[str]:
    """Relative paths of the files SHA256SUMS should cover (hidden and `_` files left out)."""
    found = []
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir)
        if rel.as_posix() in NOT_CHECKSUMMED or not path.is_file():
            continue
        if any(part.startswith(IGNORED_PREFIXES) for part in rel.parts):
            continue
        found.append(rel.as_posix())
    return found


def compare_checksums(raw_dir: Path | str) -> ChecksumReport | None:
    """Compare the raw folder with its SHA256SUMS; None when there is no SHA256SUMS."""
    raw_dir = Path(raw_dir)
    checksums = raw_dir / CHECKSUMS
    if not checksums.is_file():
        return None
    listed, unreadable = read_checksums(checksums)
    report = ChecksumReport(checksums=checksums, unreadable=unreadable)
    for rel, expected in sorted(listed.items()):
        path = raw_dir / rel
        if not path.is_file():
            report.missing.append(rel)
        elif (now := sha256_path(path)) != expected:
            report.changed.append((rel, expected, now))
    report.unlisted = [rel for rel in present_files(raw_dir) if rel not in listed]
    return report


def describe(report: ChecksumReport, raw_dir: Path | str) -> list[str]:
    """Console lines: each difference, the file named, and what to do."""
    raw = Path(raw_dir).as_posix()
    sums = report.checksums.as_posix()
    lines = []
    for rel, expected, now in report.changed:
        lines += [
            f"WARNING raw data: {raw}/{rel} differs from {sums} "
            f"(sha256 listed {expected}, now {now}); this run uses the file as it is now.",
            "  Not your change? Stop, restore the file (bundled synthetic data: `make "
            "example-data`) and run again.",
            f"  Your change? Record it: `cd {raw} && sha256sum {rel}` and put that line in "
            f"place of the old one in {CHECKSUMS}.",
        ]
    lines += [
        f"WARNING raw data: {raw}/{rel} is listed in {sums} but is gone; if that is not "
        f"intended, restore it (bundled synthetic data: `make example-data`), otherwise delete "
        f"its line from {CHECKSUMS}."
        for rel in report.missing
    ]
    lines += [
        f"NOTE raw data: {raw}/{rel} is not listed in {sums}, so it is not checked; to check "
        f"it from now on: `cd {raw} && sha256sum {rel} >> {CHECKSUMS}`."
        for rel in report.unlisted
    ]
    lines += [
        f"WARNING raw data: {sums}, line {number}: {text!r} is not `<sha256>  <path inside "
        f"{raw}>`; that line is not checked. Fix or delete it."
        for number, text in report.unreadable
    ]
    return lines


def check_raw_inputs(
    raw_dir: Path | str,
    stream: TextIO | None = None,
    datasets: Iterable[str] | None = None,
) -> ChecksumReport | None:
    """Run before the workflow: refuse links out of the raw folder and data files that are not
    waves in the `datasets` folders (default: all; WpsInputError), compare the files with
    SHA256SUMS and print every difference to `stream` (default: stderr)."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return None
    check_raw_links(raw_dir)
    check_wave_names(raw_dir, datasets)
    report = compare_checksums(raw_dir)
    if report is not None and not report.clean:
        print("\n".join(describe(report, raw_dir)), file=stream or sys.stderr, flush=True)
    return report
