"""Snakemake adapter: the run manifest and the Workflow Run RO-Crate over every job record."""

from pathlib import Path

from analysis.provenance import build_manifest, job, load_records, write_crate, write_manifest

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm):
    manifest = build_manifest(sm.params.jobs, sm.params.results, sm.params.raw)
    write_manifest(manifest, Path(sm.output.manifest))
    write_crate(manifest, load_records(sm.params.jobs), Path(sm.output.crate).parent, sm.config)
