"""Read and check a brief's findings file (results/findings/<wave>/<brief>.yaml)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.render.errors import RenderInputError
from analysis.render.projects import brief_kind

# Variables the renderer adds itself; a finding may not reuse these keys.
#: The epoch of data with no date at all (analysis.provenance.runinfo.source_date_epoch), and
#: what a brief then prints in place of a date.
UNDATED_EPOCH = 0
UNDATED = "Undated (the data carry no date)"
RESERVED_KEYS = frozenset(
    {
        "title",
        "brief",
        "wave",
        "date",
        "run_id",
        "git_commit",
        "manifest_hash",
        "render_engine",
        "suppressed_cells",
        "suppressed_note",
    }
)


@dataclass(frozen=True)
class BriefFindings:
    """What a brief quotes: numbers as printed, ready tables, figures and provenance."""

    path: Path
    brief: str
    wave: str
    title: str
    source_date_epoch: int
    suppressed_cells: int
    provenance: dict[str, Any]
    texts: dict[str, str]
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    suppressed_note: str | None = None
    kind: str = ""  # the brief kind (reports/<kind>/): regional, country, survey

    @property
    def date(self) -> dt.date:
        """The brief's date, from source_date_epoch (never the wall clock)."""
        return dt.datetime.fromtimestamp(self.source_date_epoch, tz=dt.UTC).date()

    @property
    def date_text(self) -> str:
        """The date as a brief prints it; data that carry no date (no date column, a CSV file)
        have epoch 0, which the brief says rather than printing 1 January 1970."""
        if self.source_date_epoch == UNDATED_EPOCH:
            return UNDATED
        d = self.date
        return f"{d.day} {d.strftime('%B')} {d.year}"


def _need(data: dict, key: str, kind: type, path: Path, where: str = "") -> Any:
    if key not in data:
        raise RenderInputError(
            str(path), f"missing key '{where}{key}'.", "add it (see docs/architecture.md)."
        )
    value = data[key]
    if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise RenderInputError(
            str(path),
            f"key '{where}{key}' should be {kind.__name__}, "
            f"found {type(value).__name__}: {value!r}.",
            "fix the findings step that wrote this file.",
        )
    return value


def load_findings(path: Path) -> BriefFindings:
    """Parse and check a findings YAML; raise RenderInputError naming file and key on problems."""
    path = Path(path)
    if not path.is_file():
        raise RenderInputError(
            str(path), "findings file not found.", "run the findings step first."
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RenderInputError(str(path), f"not valid YAML ({exc}).", "fix the file.") from exc
    if not isinstance(data, dict):
        raise RenderInputError(str(path), "top level must be a mapping.", "fix the file.")
    findings = _need(data, "findings", dict, path)
    texts: dict[str, str] = {}
    for key in sorted(findings):
        entry = findings[key]
        if not isinstance(entry, dict) or "text" not in entry:
            raise RenderInputError(
                str(path), f"finding '{key}' has no 'text' (what the brief prints).", "add it."
            )
        if key in RESERVED_KEYS:
            raise RenderInputError(
                str(path), f"finding key '{key}' is reserved by the renderer.", "rename it."
            )
        texts[key] = str(entry["text"])
    tables = data.get("tables") or {}
    for name, table in tables.items():
        for key in ("columns", "rows"):
            _need(table, key, list, path, f"tables.{name}.")
        width = len(table["columns"])
        for i, row in enumerate(table["rows"], start=1):
            if len(row) != width:
                raise RenderInputError(
                    str(path),
                    f"table '{name}' row {i} has {len(row)} cells but {width} columns.",
                    "make every row as long as 'columns'.",
                )
    figures = data.get("figures") or {}
    for name, fig in figures.items():
        for key in ("path", "alt", "caption"):
            _need(fig, key, str, path, f"figures.{name}.")
    sections: dict[str, str] = {}
    for name, section in (data.get("sections") or {}).items():
        _need(section, "markdown", str, path, f"sections.{name}.")
        sections[name] = section["markdown"]
    provenance = data.get("provenance") or {}
    note = data.get("suppressed_note")
    brief = _need(data, "brief", str, path)
    return BriefFindings(
        path=path,
        brief=brief,
        wave=_need(data, "wave", str, path),
        title=_need(data, "title", str, path),
        source_date_epoch=_need(data, "source_date_epoch", int, path),
        suppressed_cells=int(data.get("suppressed_cells", 0)),
        provenance=provenance,
        texts=texts,
        tables=tables,
        figures=figures,
        sections=sections,
        suppressed_note=str(note) if note else None,
        kind=str(data.get("kind") or brief_kind(brief)),
    )


def suppressed_note(f: BriefFindings) -> str:
    """The sentence the methods box prints about disclosure control."""
    if f.suppressed_note:
        return f.suppressed_note
    n = f.suppressed_cells
    if n == 0:
        return "No table cell in this brief needed to be suppressed."
    cells = "cell was" if n == 1 else "cells were"
    return (
        f"To protect respondents, {n} table {cells} suppressed because too few respondents "
        "answered to publish the estimate safely; they are shown as “suppressed”."
    )
