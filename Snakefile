"""wps-evidence: raw survey and interview waves -> cleaned tables, estimates, briefs, provenance.

Logic lives in the `analysis` package; this file and workflow/rules only wire it together.
"""

from pathlib import Path

from snakemake.utils import min_version, validate

from analysis.run.cluster import job_checks as cluster_job_checks
from analysis.errors import WpsInputError

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


# Inside a SLURM job: the shared paths and fonts this compute node must see (analysis/run/cluster.py;
# the login node's checks run in onstart, workflow/rules/ingest.smk).
try:
    cluster_job_checks(workflow, config, Path(workflow.basedir))
except WpsInputError as err:
    raise WorkflowError(str(err)) from None


wildcard_constraints:
    dataset="[a-z][a-z0-9_]*",
    wave="[A-Za-z0-9][A-Za-z0-9_.-]*",
    brief="[a-z][a-z0-9-]*",
    model="[a-z][a-z0-9_]*",


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/plausibility.smk"
include: "workflow/rules/interviews.smk"
include: "workflow/rules/context.smk"
include: "workflow/rules/briefs.smk"
include: "workflow/rules/dataset_briefs.smk"
include: "workflow/rules/own_briefs.smk"
include: "workflow/rules/results_framework.smk"
include: "workflow/rules/provenance.smk"


# Under a second of script each: run by the controller, not as cluster jobs (the SLURM profile).
localrules:
    all,
    describe_results_inputs,
    write_brief_note,
    compare_waves,
    tidy_context,
    write_manifest,


rule all:
    default_target: True
    input:
        **final_outputs(),
        manifest=f"{RESULTS}/provenance/manifest.json",
        crate=f"{RESULTS}/provenance/ro-crate-metadata.json",
