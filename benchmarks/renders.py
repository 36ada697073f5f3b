"""Which briefs a rerun rendered again, and which of them had nothing new to show.

A brief is rendered again when any of its files under ``results/briefs`` has a new modification
time. It needed it when its findings (numbers, texts, tables, figures; not the provenance block)
changed, when it is new, or when its own words were edited. The rest are needless renders: the
issue's "a brief whose numbers and words did not change should not be rendered again".
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import yaml

BRIEF_SUFFIXES = (".html", ".pdf", ".docx")
#: Keys of a findings file that say how it was made, not what the brief shows.
PROVENANCE_KEYS = ("provenance", "source_date_epoch")


def brief_files(results: Path) -> dict[str, int]:
    """``{path under results/briefs: mtime_ns}`` of every rendered brief file."""
    base = results / "briefs"
    if not base.is_dir():
        return {}
    return {
        p.relative_to(base).as_posix(): p.stat().st_mtime_ns
        for p in sorted(base.rglob("*"))
        if p.is_file() and p.suffix in BRIEF_SUFFIXES
    }


def brief_of(rel: str) -> str:
    """A brief file's name without its format: ``2025/regional.pdf`` -> ``2025/regional``."""
    return str(PurePosixPath(rel).with_suffix(""))


def findings_of(brief: str) -> PurePosixPath:
    """The findings file (under results/findings) a brief is rendered from.

    ``<wave>/<brief>`` -> ``<wave>/<brief>.yaml``; a dataset brief
    ``<kind>/<dataset>/<wave>/<dataset>`` -> ``<kind>/<dataset>/<wave>.yaml``.
    """
    parts = PurePosixPath(brief).parts
    if len(parts) == 4 and parts[3] == parts[1]:
        return PurePosixPath(*parts[:3]).with_suffix(".yaml")
    return PurePosixPath(brief).with_suffix(".yaml")


def shown_content(path: Path) -> Any:
    """A findings file without its provenance keys (None when it does not exist)."""
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        for key in PROVENANCE_KEYS:
            data.pop(key, None)
    return data


def rerendered(before: Path, after: Path, words_of: str | None = None) -> dict[str, Any]:
    """Briefs rendered again between two states of ``results/`` and which of them needlessly.

    ``words_of``: the brief name (e.g. ``regional``) whose words were edited; its renders are
    needed in every wave.
    """
    old, new = brief_files(before), brief_files(after)
    again = sorted({brief_of(rel) for rel, mtime in new.items() if old.get(rel) != mtime})
    needless = []
    for brief in again:
        if words_of is not None and PurePosixPath(brief).name == words_of:
            continue
        findings = findings_of(brief)
        was = shown_content(before / "findings" / findings)
        if was is not None and was == shown_content(after / "findings" / findings):
            needless.append(brief)
    return {
        "briefs": len({brief_of(rel) for rel in new}),
        "rendered": again,
        "needless": needless,
    }
