"""Provenance: job records made as each job runs, the run manifest, the RO-Crate and the audit.

from analysis.provenance import job
with job(snakemake) as j:
    ...
    j.note("rows_clean", n)
"""

from analysis.provenance.audit import Problem, audit, verdict
from analysis.provenance.crate import build_crate, write_crate
from analysis.provenance.manifest import build_manifest, lineage, trace, write_manifest
from analysis.provenance.record import Job, job, load_records

__all__ = [
    "Job",
    "Problem",
    "audit",
    "build_crate",
    "build_manifest",
    "job",
    "lineage",
    "load_records",
    "trace",
    "verdict",
    "write_crate",
    "write_manifest",
]
