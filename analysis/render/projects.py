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


# The kinds the project ships; a user's own brief (config: datasets.<name>.brief) is any other
# folder of reports/ holding the same three files.
BUILTIN_KINDS = ("regional", "country", "survey", "results")
OWN_BRIEF_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
OWN_BRIEF_FILES = ("{name}.qmd", "_quarto.yml", "numbers.yaml")


#: Inputs of a wave's findings job that only its regional brief reads (its quote choice, context
#: and programme results) carry this prefix: the rules name them so, the job hands them to the
#: regional brief alone.
REGIONAL_ONLY = "regional__"


def brief_kind(brief: str) -> str:
    """The kind of a brief of the regional/country roster: 'regional', or 'country' for a
    country's brief. (Other briefs name their kind in their findings file.)"""
    return "regional" if brief == "regional" else "country"


def own_brief_problem(name: object, reports: Path = REPORTS_DIR) -> tuple[str, str] | None:
    """What is wrong with `name` as a user's own brief folder reports/<name>/ (problem, what to
    do), or None when the folder is usable: a plain name (no path), not a built-in kind, an
    existing folder holding <name>.qmd, _quarto.yml and numbers.yaml."""
    if not isinstance(name, str) or not OWN_BRIEF_NAME.match(name):
        return (
            f"the brief '{name}' is not a plain folder name",
            "name a folder directly under reports/ (lower case letters, digits, _ and -; no "
            "'/' or '..'), for example `brief: schools_brief` for reports/schools_brief/.",
        )
    if name in BUILTIN_KINDS:
        return (
            f"the brief '{name}' is one of the project's own kinds ({', '.join(BUILTIN_KINDS)})",
            "copy it to a folder of your own name (reports/<name>/, with <name>.qmd) and set "
            "`brief: <name>`.",
        )
    project = reports / name
    if not project.is_dir():
        return (
            f"the brief's folder {project} does not exist",
            f"create {project}/ with {name}.qmd, _quarto.yml and numbers.yaml (docs/own-study.md"
            ", 'Quoting numbers in your own words'), or remove `brief:` from the dataset.",
        )
    absent = [f.format(name=name) for f in OWN_BRIEF_FILES]
    absent = [f for f in absent if not (project / f).is_file()]
    if absent:
        return (
            f"the brief's folder {project} has no {', '.join(absent)}",
            f"add them (copy reports/survey/_quarto.yml and adapt it; the document must be "
            f"named {name}.qmd).",
        )
    return None


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
