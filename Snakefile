"""wps-evidence: raw survey and interview waves -> cleaned tables, estimates, briefs, provenance.

Logic lives in the `analysis` package; this file and workflow/rules only wire it together.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/interviews.smk"
include: "workflow/rules/briefs.smk"
include: "workflow/rules/provenance.smk"


rule all:
    input:
        final_outputs(),
        manifest=f"{RESULTS}/provenance/manifest.json",
        crate=f"{RESULTS}/provenance/ro-crate-metadata.json",
    default_target: True
