"""Where each brief kind's Quarto project lives, and which of its files are sources.

A brief kind is a folder `reports/<kind>/` holding one document `<kind>.qmd`, its `_quarto.yml`
and its words (`text/`). A render (analysis.render.staging) or `wps preview` writes the run's
numbers, tables, figures and the house style beside them (GENERATED); those are never sources.
Standard library only: the workflow's rule files import it when the DAG is built.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

REPORTS_DIR = Path("reports")
INCLUDE = re.compile(r"\{\{<\s*include\s+(.*?)\s*>\}\}")


def brief_kind(brief: str) -> str:
    """The kind of a brief: 'regional', or 'country' for a country's brief."""
    return "regional" if brief == "regional" else "country"


def brief_project(kind: str, reports: Path = REPORTS_DIR) -> Path:
    """The Quarto project folder of a brief kind."""
    return reports / kind


def brief_document(kind: str, reports: Path = REPORTS_DIR) -> Path:
    """The .qmd of a brief kind."""
    return brief_project(kind, reports) / f"{kind}.qmd"


STYLE_DIR = Path(__file__).resolve().parents[1] / "style"
# House-style files: {file in analysis/style/: where it goes in a brief's project}.
STYLE_FILES = {
    "wps-brief.typ": "wps-brief.typ",
    "brief-template.typst": "brief-template.typst",
    "wps.css": "wps.css",
    "quarto-compat.lua": "quarto-compat.lua",
    "typst-show.typ": "_typst/typst-show.typ",
}
# Top-level names in a brief's project that a render or `wps preview` writes (never sources).
GENERATED = (
    "_site",
    ".quarto",
    "_freeze",
    "*_files",
    "_variables.yml",
    "_tables",
    "_figures",
    "_sections",
    "figures",
    "_typst",
    "reference.docx",
    *(target for target in STYLE_FILES.values() if "/" not in target),
    "*.html",
    "*.pdf",
    "*.docx",
    "*.typ",
    "*.typ.out",
)


def is_generated(relative: Path | str) -> bool:
    """Whether a path inside a brief's project is written by a render or a preview."""
    top = Path(relative).parts[0]
    return any(fnmatch.fnmatch(top, pattern) for pattern in GENERATED)


def brief_source_files(project: Path) -> list[Path]:
    """The files of a brief's Quarto project that are sources (words, layout, settings)."""
    return sorted(
        p for p in project.rglob("*") if p.is_file() and not is_generated(p.relative_to(project))
    )


def unresolved_includes(root: Path) -> list[str]:
    """Every `{{< include >}}` of every .qmd under `root` (followed through included files)
    whose file does not exist, as 'document: include path'. Empty when Quarto can render it."""
    problems: list[str] = []
    for qmd in sorted(root.rglob("*.qmd")):
        seen: set[Path] = set()
        pending = [qmd]
        while pending:
            source = pending.pop()
            if source in seen:
                continue
            seen.add(source)
            for match in INCLUDE.finditer(source.read_text(encoding="utf-8")):
                rel = match.group(1).strip().strip("\"'")
                base = root if rel.startswith("/") else source.parent
                target = base / rel.lstrip("/")
                if target.is_file():
                    pending.append(target)
                else:
                    problems.append(f"{qmd.relative_to(root)}: {rel}")
    return problems
