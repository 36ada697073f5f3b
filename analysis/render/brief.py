"""render_brief: one .qmd + one findings file -> html, pdf, docx in out_dir."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from analysis.atomic import atomic_write
from analysis.render.findings_file import load_findings
from analysis.render.pandoc_engine import render_with_pandoc
from analysis.render.quarto_engine import render_with_quarto
from analysis.render.staging import stage_brief

FORMATS = ("html", "pdf", "docx")
ENGINES = ("auto", "quarto", "pandoc")


def choose_engine(engine: str) -> str:
    """'quarto' or 'pandoc': auto picks Quarto when `quarto` is on PATH."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}.")
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "pandoc"
    return engine


def render_brief(
    qmd: Path,
    findings: Path,
    out_dir: Path,
    formats: tuple[str, ...] = FORMATS,
    engine: str = "auto",
    *,
    work_dir: Path | None = None,
    data_root: Path | None = None,
) -> dict[str, Path]:
    """Render `qmd` (in the Quarto project reports/) with the numbers of `findings`.

    Renders in a fresh staging copy of the project inside `work_dir` (a temporary folder
    when None), so parallel renders never share files. Relative figure paths in the
    findings are resolved against `data_root` (default: the current directory, the repo
    root under Snakemake). Writes out_dir/<brief>.<fmt>; returns {format: path}.
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; choose from {FORMATS}.")
    chosen = choose_engine(engine)
    brief = load_findings(Path(findings))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_root = Path(data_root) if data_root is not None else Path.cwd()
    with tempfile.TemporaryDirectory(prefix="wps-render-") as tmp:
        base = Path(work_dir) if work_dir is not None else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        staged = stage_brief(Path(qmd).resolve(), brief, base, chosen, data_root)
        render = render_with_quarto if chosen == "quarto" else render_with_pandoc
        produced = render(staged, tuple(formats))
        result: dict[str, Path] = {}
        for fmt in formats:
            target = out_dir / f"{brief.brief}.{fmt}"
            atomic_write(target, lambda tmp, made=produced[fmt]: shutil.copyfile(made, tmp))
            result[fmt] = target
    return result
