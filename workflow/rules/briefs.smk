"""Figures, findings (every number a brief quotes, with its source), and rendered briefs."""


rule describe_inputs:
    input:
        unpack(brief_raw_inputs),
        clean=brief_clean_table,
        lock="requirements.lock",
        config="config/config.yaml",
        plan=config["plan"],
    output:
        inputs=f"{RESULTS}/provenance/inputs/{{wave}}.json",
        record=f"{JOBS}/describe_inputs/{{wave}}.json",
    log:
        f"{LOGS}/describe_inputs/{{wave}}.log",
    script:
        "../scripts/describe_inputs.py"


rule draw_figures:
    input:
        unpack(brief_tables),
    output:
        **figure_outputs(),
        record=f"{JOBS}/draw_figures/{{wave}}.json",
    params:
        threshold=config["disclosure"]["threshold_officers"],
    log:
        f"{LOGS}/draw_figures/{{wave}}.log",
    script:
        "../scripts/draw_figures.py"


rule build_findings:
    input:
        unpack(brief_tables),
        unpack(figure_inputs),
        inputs=rules.describe_inputs.output.inputs,
    output:
        findings=report(
            f"{RESULTS}/findings/{{wave}}/{{brief}}.yaml",
            category="Findings",
            subcategory="{wave}",
        ),
        record=f"{JOBS}/build_findings/{{wave}}/{{brief}}.json",
    params:
        thresholds=config["disclosure"],
        previous_wave=previous_wave_of,
    log:
        f"{LOGS}/build_findings/{{wave}}/{{brief}}.log",
    script:
        "../scripts/build_findings.py"


rule render_brief:
    input:
        unpack(brief_sources),
        findings=rules.build_findings.output.findings,
        figures=figure_inputs_list,
    output:
        **brief_outputs(),
        record=f"{JOBS}/render_brief/{{wave}}/{{brief}}.json",
    params:
        engine=config["render"]["engine"],
    log:
        f"{LOGS}/render_brief/{{wave}}/{{brief}}.log",
    script:
        "../scripts/render_brief.py"
