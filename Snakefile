"""wps-evidence: raw survey and interview waves -> cleaned tables, estimates, briefs, provenance.

Logic lives in the `analysis` package; this file and workflow/rules only wire it together.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


wildcard_constraints:
    dataset="[a-z][a-z0-9_]*",
    wave="[A-Za-z0-9][A-Za-z0-9_.-]*",
    brief="[a-z][a-z0-9-]*",
    model="[a-z][a-z0-9_]*",


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/interviews.smk"
include: "workflow/rules/context.smk"
include: "workflow/rules/briefs.smk"
include: "workflow/rules/dataset_briefs.smk"
include: "workflow/rules/results_framework.smk"
include: "workflow/rules/provenance.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        manifest=f"{RESULTS}/provenance/manifest.json",
        crate=f"{RESULTS}/provenance/ro-crate-metadata.json",
