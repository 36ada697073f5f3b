"""Stage one brief for one engine: a fresh copy of the brief's own Quarto project
(`reports/<kind>/`) with what the run produced written into it: _variables.yml, _tables/,
_figures/, _sections/, figures/ and the house-style files.

Each brief kind is a Quarto project of its own with a single document, and the staged copy
names it as the project's only render target: Quarto resolves the includes of every document
of a project even when asked to render one, so a staged folder must hold no other document.
`stage_brief` checks that every include of every document in the staged folder resolves
before an engine runs (`unresolved_includes`).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from analysis.render.docx_reference import DocxFooter, build_reference_docx
from analysis.render.errors import RenderInputError
from analysis.render.findings_file import BriefFindings, suppressed_note
from analysis.render.projects import (
    STYLE_DIR,
    STYLE_FILES,
    brief_source_files,
    is_generated,
    unresolved_includes,
)
from analysis.render.quarto_md import (
    escape_md,
    figure_markdown,
    join_front_matter,
    split_front_matter,
    table_markdown,
)
from analysis.render.versions import engine_label
from analysis.run.cluster import execution_place

QUARTO_CONFIG = "_quarto.yml"


@dataclass(frozen=True)
class StagedBrief:
    """A staging copy ready for one engine: where it is and what it knows."""

    root: Path
    qmd: Path
    findings: BriefFindings
    variables: dict[str, Any]
    meta: dict[str, Any]

    def docx_footer(self) -> DocxFooter:
        """What every page of the Word brief names in its footer (as the PDF does)."""
        return DocxFooter(
            run_id=str(self.variables["run_id"]),
            manifest_hash=str(self.variables["manifest_hash"]),
        )


def _resolve(path: str, data_root: Path, findings: BriefFindings, what: str) -> Path:
    p = Path(path)
    p = p if p.is_absolute() else data_root / p
    if not p.is_file():
        raise RenderInputError(
            str(findings.path),
            f"{what} '{path}' not found (looked at {p}).",
            "run the figures step first, or pass data_root= the folder the paths are relative to.",
        )
    return p


def _recorded(prov: Mapping[str, Any], key: str) -> str:
    """A provenance value as text; "not recorded" when absent or null (never "None")."""
    value = prov.get(key)
    return "not recorded" if value is None or value == "" else str(value)


def _variables(f: BriefFindings, engine: str) -> dict[str, Any]:
    prov = f.provenance
    variables: dict[str, Any] = dict(f.texts)
    variables.update(
        title=f.title,
        brief=f.brief,
        wave=f.wave,
        date=f.date_text,
        run_id=_recorded(prov, "run_id"),
        git_commit=_recorded(prov, "git_commit"),
        manifest_hash=_recorded(prov, "manifest_hash"),
        render_engine=engine_label(engine),
        suppressed_cells=str(f.suppressed_cells),
        suppressed_note=suppressed_note(f),
    )
    return variables


def _git_commit_cell(commit: str, provenance: Mapping[str, Any]) -> str:
    """The commit as code, marked when the checkout had uncommitted changes: then the commit
    alone does not say which code made the brief."""
    dirty = " (uncommitted changes)" if provenance.get("git_dirty") else ""
    return f"`{commit}`{dirty}"


def _provenance_tables(f: BriefFindings, variables: dict[str, Any]) -> dict[str, dict]:
    def code(value: Any) -> str:
        return f"`{value}`"

    run_rows = [
        ["Run ID", code(variables["run_id"])],
        ["Git commit", _git_commit_cell(variables["git_commit"], f.provenance)],
        [
            "Inputs manifest SHA-256 "
            + escape_md(f"({f.provenance.get('manifest_path') or 'inputs manifest'})"),
            code(variables["manifest_hash"]),
        ],
        ["Date (from the data)", escape_md(variables["date"])],
        ["Rendered with", escape_md(variables["render_engine"])],
        ["Executed on", escape_md(execution_place())],
    ]
    files = f.provenance.get("data_files") or []
    file_rows = [
        [escape_md(str(d.get("path", "?"))), code(d.get("sha256", "not recorded"))]
        for d in sorted(files, key=lambda d: str(d.get("path", "")))
    ]
    software = f.provenance.get("software") or {}
    soft_rows = [[escape_md(str(k)), escape_md(str(software[k]))] for k in sorted(software)]
    return {
        "provenance_run": {
            "columns": ["Item", "Value"],
            "rows": run_rows,
            "align": "ll",
            "widths": [22, 58],
            "markdown": True,
        },
        "provenance_data_files": {
            "columns": ["Data file", "SHA-256"],
            "rows": file_rows or [["none recorded", ""]],
            "align": "ll",
            "widths": [30, 55],
            "markdown": True,
        },
        "provenance_software": {
            "columns": ["Software", "Version"],
            "rows": soft_rows or [["none recorded", ""]],
            "align": "ll",
            "widths": [40, 40],
            "markdown": True,
        },
    }


def write_brief_inputs(
    root: Path, findings: BriefFindings, engine: str, data_root: Path
) -> dict[str, Any]:
    """Write what a render of `findings` needs into the brief's project folder `root`:
    house style, reference.docx, figures, tables, sections and _variables.yml (replacing any
    earlier ones). Returns the variables (every number of the brief, as text)."""
    for entry in sorted(root.iterdir()):
        if is_generated(entry.name):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for name, target in STYLE_FILES.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STYLE_DIR / name, root / target)
    build_reference_docx(root / "reference.docx", findings.source_date_epoch)

    (root / "figures").mkdir()
    (root / "_figures").mkdir()
    for name in sorted(findings.figures):
        fig = findings.figures[name]
        src = _resolve(fig["path"], data_root, findings, f"figure '{name}'")
        shutil.copyfile(src, root / "figures" / f"{name}{src.suffix}")
        if fig.get("png"):
            png = _resolve(fig["png"], data_root, findings, f"figure '{name}' PNG")
            shutil.copyfile(png, root / "figures" / f"{name}.png")
        md = figure_markdown(name, f"figures/{name}{src.suffix}", fig["caption"], fig["alt"])
        (root / "_figures" / f"{name}.md").write_text(md, encoding="utf-8")

    variables = _variables(findings, engine)
    tables = dict(findings.tables)
    tables.update(_provenance_tables(findings, variables))
    (root / "_tables").mkdir()
    for name in sorted(tables):
        md = table_markdown(name, tables[name])
        (root / "_tables" / f"{name}.md").write_text(md, encoding="utf-8")
    (root / "_sections").mkdir()
    for name in sorted(findings.sections):
        text = findings.sections[name]
        (root / "_sections" / f"{name}.md").write_text(text, encoding="utf-8")
    (root / "_variables.yml").write_text(
        yaml.safe_dump(variables, sort_keys=True, allow_unicode=True, width=1000),
        encoding="utf-8",
    )
    return variables


def _copy_project(qmd: Path, root: Path) -> None:
    """Copy the sources of qmd's project into `root`: the one document, never a sibling."""
    project = qmd.parent
    for source in brief_source_files(project):
        rel = source.relative_to(project)
        if source.suffix == ".qmd" and source != qmd:
            continue
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / rel)


def _render_only(root: Path, qmd_name: str) -> None:
    """Name the staged document as the project's only render target in _quarto.yml."""
    path = root / QUARTO_CONFIG
    config = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    config = config if isinstance(config, dict) else {}
    project = config.get("project") if isinstance(config.get("project"), dict) else {}
    config["project"] = {**project, "type": project.get("type", "default"), "render": [qmd_name]}
    path.write_text(
        yaml.safe_dump(config, sort_keys=True, allow_unicode=True, width=1000), encoding="utf-8"
    )


def stage_brief(
    qmd: Path, findings: BriefFindings, work_dir: Path, engine: str, data_root: Path
) -> StagedBrief:
    """Copy qmd's own Quarto project into a fresh folder in work_dir, write the brief's
    inputs, and check that Quarto could resolve every include there."""
    root = work_dir / f"{findings.brief}-{qmd.stem}-{engine}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _copy_project(qmd, root)
    _render_only(root, qmd.name)
    variables = write_brief_inputs(root, findings, engine, data_root)

    staged_qmd = root / qmd.name
    meta, body = split_front_matter(staged_qmd.read_text(encoding="utf-8"))
    prov = findings.provenance
    meta.update(
        {
            "title": escape_md(findings.title),
            "date": findings.date_text,
            "lang": meta.get("lang", "en-GB"),
            "wps-kicker": f"{meta.get('wps-kicker', 'Policy brief')} · {findings.wave}",
            "wps-brief": findings.brief,
            "wps-wave": findings.wave,
            "wps-run-id": escape_md(_recorded(prov, "run_id")),
            "wps-manifest-hash": escape_md(_recorded(prov, "manifest_hash")),
        }
    )
    staged_qmd.write_text(join_front_matter(meta, body), encoding="utf-8")
    missing = unresolved_includes(root)
    if missing:
        raise RenderInputError(
            str(findings.path),
            f"the staged Quarto project of {qmd.name} has includes that do not resolve: "
            + "; ".join(missing),
            "the findings file lacks the figure, table or section those includes name: "
            "rebuild the findings, or remove the include from the .qmd.",
        )
    return StagedBrief(root=root, qmd=staged_qmd, findings=findings, variables=variables, meta=meta)
