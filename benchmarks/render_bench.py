"""Rendering benchmark: seconds per brief per format (pandoc + Typst) on a finished run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from analysis.render import render_brief
from analysis.render.brief import FORMATS
from analysis.render.projects import brief_document, brief_kind
from benchmarks.stats import summary

ENGINE = "pandoc"
WAVE = "2025"


def qmd_for(copy: Path, brief: str) -> Path:
    """The Quarto source of a brief, as the workflow picks it (regional or country)."""
    return brief_document(brief_kind(brief), copy / "reports")


def bench_render(copy: Path, work_dir: Path, repeats: int, log=print) -> dict[str, Any]:
    """``{"engine", "wave", "briefs": {brief: {fmt: summary}}}`` for every findings file."""
    findings_dir = copy / "results" / "findings" / WAVE
    files = sorted(findings_dir.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"no findings files in {findings_dir}: did the workflow run?")
    briefs: dict[str, Any] = {}
    for findings in files:
        brief = findings.stem
        briefs[brief] = {}
        for fmt in FORMATS:
            log(f"render: {WAVE}/{brief}.{fmt}")
            runs = []
            for i in range(repeats):
                start = time.perf_counter()
                render_brief(
                    qmd_for(copy, brief),
                    findings,
                    work_dir / "render" / f"{i}",
                    (fmt,),
                    ENGINE,
                    data_root=copy,
                )
                runs.append(time.perf_counter() - start)
            briefs[brief][fmt] = summary(runs)
    return {"engine": ENGINE, "wave": WAVE, "repeats": repeats, "briefs": briefs}
