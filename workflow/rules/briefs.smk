"""Figures, findings (every number a brief quotes, with its source), and rendered briefs."""


# What a wave's briefs wait on goes first (priority): the estimates, figures and plausibility
# check (10), then the models (5, workflow/rules/estimate.smk), then the rest (trends, a
# survey's default brief): a new wave's briefs start as soon as they can.
rule draw_figures:
    input:
        unpack(figure_tables),
    output:
        **figure_outputs(),
        record=f"{JOBS}/draw_figures/{{wave}}.json",
    log:
        f"{LOGS}/draw_figures/{{wave}}.log",
    priority: 10
    conda:
        "../envs/wps.yaml"
    params:
        threshold=config["disclosure"]["threshold_officers"],
    script:
        "../scripts/draw_figures.py"


rule write_brief_note:
    input:
        plan=wave_briefs_plan,
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


# One job per wave builds the findings of all of that wave's briefs: it describes the wave's
# inputs (run ID and date), decides which countries get a brief (the brief plan, briefs.json,
# from the cleaned wave), then writes the findings and inputs description of the regional brief
# and of each country's. One process for a wave's ten
# or so briefs, not one each (issue 18: each job costs its own Python start and imports).
# A checkpoint: once it has run, Snakemake looks again at each brief's render, which runs only if
# that brief's findings' bytes changed (input checksums): a brief whose numbers, words and
# figures are unchanged is not rendered again.
checkpoint build_findings:
    input:
        unpack(brief_tables),
        unpack(wave_brief_declarations),
        unpack(figure_inputs),
        unpack(regional_brief_inputs),
        # what the wave's briefs rest on (raw files, codebooks, lock file): hashed into the
        # wave's inputs description; each brief's adds the plan entries and config values it
        # uses (params `settings`), so no rule reads the whole config or plan file
        unpack(brief_described_inputs),
        clean=brief_clean_table,
        plausibility=brief_plausibility,
    output:
        findings=report(
            directory(f"{RESULTS}/findings/{{wave}}"),
            patterns=["{name}.yaml"],
            category="Findings",
            subcategory="{wave}",
        ),
        inputs=directory(f"{RESULTS}/provenance/briefs/{{wave}}"),
        wave_inputs=f"{RESULTS}/provenance/inputs/{{wave}}.json",
        record=f"{JOBS}/build_findings/{{wave}}.json",
    log:
        f"{LOGS}/build_findings/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        thresholds=config["disclosure"],
        previous_wave=previous_wave_of,
        settings=wave_brief_settings,
        dataset=BRIEF_DATASET,
        min_respondents=config["briefs"]["min_respondents_country"],
        countries=config["briefs"].get("countries", True),
    script:
        "../scripts/build_findings.py"


rule render_brief:
    input:
        unpack(brief_sources),
        findings=brief_findings,
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
