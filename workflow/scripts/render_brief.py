"""Snakemake adapter: render one brief from its findings with Quarto or pandoc + Typst."""

import tempfile
from pathlib import Path

from analysis.provenance import job
from analysis.render import engine_versions, render_brief
from analysis.render.brief import choose_engine
from analysis.render.versions import engine_label

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    formats = tuple(fmt for fmt in ("html", "pdf", "docx") if fmt in sm.output.keys())  # noqa: SIM118 (Namedlist: keys, not paths)
    out_dir = Path(sm.output[formats[0]]).parent
    with tempfile.TemporaryDirectory(prefix="wps-brief-") as work_dir:
        render_brief(
            Path(sm.input.qmd),
            Path(sm.input.findings),
            out_dir,
            formats,
            sm.params.engine,
            work_dir=Path(work_dir),
        )
    j.software.update(engine_versions())
    j.software["rendered with"] = engine_label(choose_engine(sm.params.engine))
