"""The default brief of every survey dataset with a plan entry, per wave: no declaration."""


# A checkpoint, as build_findings: a brief whose findings are unchanged is not rendered again.
checkpoint build_dataset_findings:
    input:
        unpack(dataset_brief_tables),
        # hashed into the wave's inputs description (run ID and date), written here too
        unpack(dataset_brief_described_inputs),
        codebook=f"{RESULTS}/clean/{{dataset}}/{{wave}}.codebook.json",
        clean=clean_table_of_wave,
        plausibility=dataset_plausibility,
    output:
        findings=report(
            f"{RESULTS}/findings/survey/{{dataset}}/{{wave}}.yaml",
            category="Findings",
            subcategory="{dataset} {wave}",
        ),
        inputs=f"{RESULTS}/provenance/briefs/survey/{{dataset}}/{{wave}}.json",
        wave_inputs=f"{RESULTS}/provenance/inputs/{{dataset}}/{{wave}}.json",
        record=f"{JOBS}/build_dataset_findings/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/build_dataset_findings/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        threshold=config["disclosure"]["threshold_officers"],
        models=dataset_model_ids,
        settings=dataset_brief_settings,
    script:
        "../scripts/build_dataset_findings.py"


rule render_dataset_brief:
    input:
        unpack(dataset_brief_sources),
        findings=rules.build_dataset_findings.output.findings,
        figures=dataset_figure_list,
    output:
        **dataset_brief_outputs(),
        record=f"{JOBS}/render_dataset_brief/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/render_dataset_brief/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        engine=config["render"]["engine"],
    script:
        "../scripts/render_brief.py"
