"""A survey's own declared brief (config: datasets.<dataset>.brief: <name>, the Quarto project
reports/<name>/ with numbers.yaml), per wave, beside the dataset's default brief."""


# A checkpoint, as build_findings: a brief whose findings are unchanged is not rendered again.
checkpoint build_own_findings:
    input:
        unpack(own_brief_tables),
        unpack(own_brief_declaration),
        unpack(own_brief_figures),
        inputs=f"{RESULTS}/provenance/inputs/{{dataset}}/{{wave}}.json",
        plausibility=dataset_plausibility,
    output:
        findings=report(
            f"{RESULTS}/findings/{{brief}}/{{dataset}}/{{wave}}.yaml",
            category="Findings",
            subcategory="{dataset} {wave}",
        ),
        inputs=f"{RESULTS}/provenance/briefs/{{brief}}/{{dataset}}/{{wave}}.json",
        record=f"{JOBS}/build_own_findings/{{brief}}/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/build_own_findings/{{brief}}/{{dataset}}/{{wave}}.log",
    wildcard_constraints:
        brief=OWN_BRIEF_NAMES,
        dataset=OWN_DATASETS,
    conda:
        "../envs/wps.yaml"
    params:
        thresholds=config["disclosure"],
        previous_wave=previous_wave_of_dataset,
        settings=own_brief_settings,
    script:
        "../scripts/build_findings.py"


rule render_own_brief:
    input:
        unpack(own_brief_sources),
        findings=rules.build_own_findings.output.findings,
        figures=own_brief_figure_list,
    output:
        **own_brief_outputs(),
        record=f"{JOBS}/render_own_brief/{{brief}}/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/render_own_brief/{{brief}}/{{dataset}}/{{wave}}.log",
    wildcard_constraints:
        brief=OWN_BRIEF_NAMES,
        dataset=OWN_DATASETS,
    conda:
        "../envs/wps.yaml"
    params:
        engine=config["render"]["engine"],
    script:
        "../scripts/render_brief.py"
