"""Render a staged brief with pandoc (HTML, DOCX) and pandoc -> Typst -> PDF (typst package)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pypandoc
import typst

from analysis.render.docx_reference import normalise_docx
from analysis.render.fonts import font_dirs
from analysis.render.quarto_md import join_front_matter, resolve_shortcodes, split_front_matter
from analysis.render.staging import StagedBrief

PDF_STANDARD = "a-2b"
QUARTO_ONLY_KEYS = ("format", "execute", "jupyter", "engine", "filters")


def to_pandoc_markdown(staged: StagedBrief) -> Path:
    """Write <stem>.md: the staged .qmd with every shortcode resolved."""
    meta, body = split_front_matter(staged.qmd.read_text(encoding="utf-8"))
    body = resolve_shortcodes(
        body, source=staged.qmd, project=staged.root, variables=staged.variables, meta=meta
    )
    for key in QUARTO_ONLY_KEYS:
        meta.pop(key, None)
    md = staged.root / f"{staged.qmd.stem}.md"
    md.write_text(join_front_matter(meta, body), encoding="utf-8")
    return md


def _pandoc(staged: StagedBrief, args: list[str]) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(staged.findings.source_date_epoch))
    cmd = [
        pypandoc.get_pandoc_path(),
        "-f",
        "markdown",
        "--lua-filter",
        "quarto-compat.lua",
        "--resource-path",
        ".",
        *args,
    ]
    done = subprocess.run(cmd, cwd=staged.root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pandoc failed ({' '.join(cmd)}):\n{done.stderr}")


def render_html(staged: StagedBrief, md: Path, out: Path) -> Path:
    """Standalone HTML with CSS and images inlined (no network requests)."""
    _pandoc(
        staged,
        [md.name, "-t", "html5", "-s", "--embed-resources", "--css", "wps.css", "-o", str(out)],
    )
    return out


def render_docx(staged: StagedBrief, md: Path, out: Path) -> Path:
    """DOCX with the house reference document and, like the PDF, the run ID, inputs manifest
    SHA-256 and "Page x of y" in the footer of every page; rewritten to be byte-stable."""
    _pandoc(staged, [md.name, "-t", "docx", "--reference-doc", "reference.docx", "-o", str(out)])
    normalise_docx(out, staged.findings.source_date_epoch, footer=staged.docx_footer())
    return out


def render_pdf(staged: StagedBrief, md: Path, out: Path) -> Path:
    """A4 PDF: pandoc writes Typst with the house template; typst compiles it in-process with
    the Noto fonts and a creation date from source_date_epoch (PDF/A-2b)."""
    typ = staged.root / f"{staged.qmd.stem}.typ"
    _pandoc(staged, [md.name, "-t", "typst", "--template", "brief-template.typst", "-o", typ.name])
    typst.compile(
        str(typ),
        output=str(out),
        root=str(staged.root),
        font_paths=[str(d) for d in font_dirs()],
        ignore_system_fonts=True,
        timestamp=staged.findings.source_date_epoch,
        pdf_standards=PDF_STANDARD,
    )
    return out


RENDERERS = {"html": render_html, "pdf": render_pdf, "docx": render_docx}


def render_with_pandoc(staged: StagedBrief, formats: tuple[str, ...]) -> dict[str, Path]:
    """Render each format into the staging folder; returns {format: path}."""
    md = to_pandoc_markdown(staged)
    out: dict[str, Path] = {}
    for fmt in formats:
        out[fmt] = RENDERERS[fmt](staged, md, staged.root / f"_out.{fmt}")
    return out
