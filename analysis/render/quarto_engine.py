"""Render a staged brief with the Quarto CLI (where installed; our build machines lack it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from analysis.render.docx_reference import normalise_docx
from analysis.render.staging import StagedBrief

QUARTO_TO = {"html": "html", "pdf": "typst", "docx": "docx"}


def render_with_quarto(staged: StagedBrief, formats: tuple[str, ...]) -> dict[str, Path]:
    """`quarto render <file> --to <fmt>` in the staging copy; returns {format: path}."""
    exe = shutil.which("quarto")
    if exe is None:
        raise RuntimeError("engine='quarto' but quarto is not on PATH; use engine='pandoc'.")
    epoch = staged.findings.source_date_epoch
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), QUARTO_PRINT_STACK="1")
    out: dict[str, Path] = {}
    for fmt in formats:
        cmd = [exe, "render", staged.qmd.name, "--to", QUARTO_TO[fmt], "--no-execute"]
        done = subprocess.run(cmd, cwd=staged.root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"quarto failed ({' '.join(cmd)}):\n{done.stderr}")
        produced = staged.root / f"{staged.qmd.stem}.{fmt}"
        if not produced.is_file():
            raise RuntimeError(f"quarto reported success but wrote no {produced}.")
        if fmt == "docx":
            normalise_docx(produced, epoch, footer=staged.docx_footer())
        out[fmt] = produced
    return out
