"""Snakemake adapter: the run manifest and the Workflow Run RO-Crate over every job record."""

from pathlib import Path

from analysis.provenance import build_manifest, job, load_records, write_crate, write_manifest
from analysis.provenance.record import files_of

sm = snakemake  # noqa: F821 (snakemake is injected)

# what `rule all` asks for (workflow/rules/common.smk, final_outputs): the audit checks each
# file (a wave's findings folder as the files in it, as its job record lists them)
TARGETS = ("outputs", "countries_")

with job(sm):
    targets = [
        file.as_posix()
        for name, paths in sm.input.items()
        if name.startswith(TARGETS)
        for path in ([paths] if isinstance(paths, str) else paths)
        for file in files_of(Path(path))
    ]
    results = Path(sm.output.manifest).parents[1]  # results/provenance/manifest.json
    jobs = results / "provenance" / "jobs"
    manifest = build_manifest(
        jobs,
        results,
        Path(sm.config["raw_dir"]),
        targets=targets,
        provenance_files=list(sm.log),
    )
    write_manifest(manifest, Path(sm.output.manifest))
    write_crate(manifest, load_records(jobs), Path(sm.output.crate).parent, sm.config)
