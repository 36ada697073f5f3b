"""Run manifest and Workflow Run RO-Crate over every job record of the run."""


rule write_manifest:
    input:
        **final_outputs(),
        inputs=expand(f"{RESULTS}/provenance/inputs/{{wave}}.json", wave=brief_waves()),
    output:
        manifest=report(
            f"{RESULTS}/provenance/manifest.json",
            category="Provenance",
        ),
        crate=f"{RESULTS}/provenance/ro-crate-metadata.json",
    log:
        f"{LOGS}/write_manifest.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/write_manifest.py"
