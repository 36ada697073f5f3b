"""Figures, findings (every number a brief quotes, with its source), and rendered briefs."""


# What a wave's briefs rest on (raw files, codebooks, lock file): each brief's findings add the
# plan entries and config values it uses (params `settings`), so no rule reads the whole config
# or plan file and an edit reruns only the jobs whose params or inputs it changes.
rule describe_inputs:
    input:
        unpack(brief_raw_inputs),
        clean=brief_clean_table,
        lock="requirements.lock",
    output:
        inputs=f"{RESULTS}/provenance/inputs/{{wave}}.json",
        record=f"{JOBS}/describe_inputs/{{wave}}.json",
    log:
        f"{LOGS}/describe_inputs/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/describe_inputs.py"


rule draw_figures:
    input:
        unpack(brief_tables),
    output:
        **figure_outputs(),
        record=f"{JOBS}/draw_figures/{{wave}}.json",
    log:
        f"{LOGS}/draw_figures/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        threshold=config["disclosure"]["threshold_officers"],
    script:
        "../scripts/draw_figures.py"


checkpoint plan_briefs:
    input:
        clean=brief_clean_table,
    output:
        plan=f"{RESULTS}/findings/{{wave}}/briefs.json",
        record=f"{JOBS}/plan_briefs/{{wave}}.json",
    log:
        f"{LOGS}/plan_briefs/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        dataset=BRIEF_DATASET,
        min_respondents=config["briefs"]["min_respondents_country"],
    script:
        "../scripts/plan_briefs.py"


rule write_brief_note:
    input:
        plan=f"{RESULTS}/findings/{{wave}}/briefs.json",
        template="reports/country/text/country-note.md",
    output:
        note=report(
            f"{RESULTS}/briefs/{{wave}}/{{brief}}.note.md",
            category="Briefs",
            subcategory="{wave}",
        ),
        record=f"{JOBS}/write_brief_note/{{wave}}/{{brief}}.json",
    log:
        f"{LOGS}/write_brief_note/{{wave}}/{{brief}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        threshold=config["disclosure"]["threshold_officers"],
    script:
        "../scripts/write_brief_note.py"


# A checkpoint: once it has run, Snakemake looks again at the brief's render, which runs only
# if the findings' bytes changed (input checksums): a brief whose numbers, words and figures
# are unchanged is not rendered again.
checkpoint build_findings:
    input:
        unpack(brief_tables),
        unpack(brief_declaration),
        unpack(figure_inputs),
        unpack(brief_plan_input),
        unpack(context_tables),
        unpack(programme_results_tables),
        unpack(regional_quote_choice),
        inputs=rules.describe_inputs.output.inputs,
        plausibility=brief_plausibility,
    output:
        findings=report(
            f"{RESULTS}/findings/{{wave}}/{{brief}}.yaml",
            category="Findings",
            subcategory="{wave}",
        ),
        inputs=f"{RESULTS}/provenance/briefs/{{wave}}/{{brief}}.json",
        record=f"{JOBS}/build_findings/{{wave}}/{{brief}}.json",
    log:
        f"{LOGS}/build_findings/{{wave}}/{{brief}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        thresholds=config["disclosure"],
        previous_wave=previous_wave_of,
        settings=brief_settings,
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
    log:
        f"{LOGS}/render_brief/{{wave}}/{{brief}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        engine=config["render"]["engine"],
    script:
        "../scripts/render_brief.py"
