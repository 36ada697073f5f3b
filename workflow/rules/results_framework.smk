"""Results frameworks (kind results_framework): progress against targets and the one-page
results brief, per wave. Ingest, validation, quarantine and cleaning are every dataset's
(ingest.smk); a results framework has no respondent ID, so cleaning needs no key."""


rule results_progress:
    input:
        clean=clean_table_of_wave,
        raw=raw_wave_file,
    output:
        **results_progress_outputs(),
        record=f"{JOBS}/results_progress/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/results_progress/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/results_progress.py"


rule describe_results_inputs:
    input:
        unpack(dataset_raw_inputs),
        progress=rules.results_progress.output.table,
        lock="requirements.lock",
    output:
        inputs=f"{RESULTS}/provenance/inputs/results/{{dataset}}/{{wave}}.json",
        record=f"{JOBS}/describe_results_inputs/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/describe_results_inputs/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/describe_results_inputs.py"


# A checkpoint, as build_findings: a brief whose findings are unchanged is not rendered again.
checkpoint build_results_findings:
    input:
        table=rules.results_progress.output.table,
        svg=rules.results_progress.output.svg,
        png=rules.results_progress.output.png,
        alt=rules.results_progress.output.alt,
        codebook=f"{RESULTS}/clean/{{dataset}}/{{wave}}.codebook.json",
        inputs=rules.describe_results_inputs.output.inputs,
    output:
        findings=report(
            f"{RESULTS}/findings/results/{{dataset}}/{{wave}}.yaml",
            category="Findings",
            subcategory="{dataset} {wave}",
        ),
        inputs=f"{RESULTS}/provenance/briefs/results/{{dataset}}/{{wave}}.json",
        record=f"{JOBS}/build_results_findings/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/build_results_findings/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/build_results_findings.py"


rule render_results_brief:
    input:
        unpack(results_brief_sources),
        findings=rules.build_results_findings.output.findings,
        figures=[
            rules.results_progress.output.svg,
            rules.results_progress.output.png,
        ],
    output:
        **results_brief_outputs(),
        record=f"{JOBS}/render_results_brief/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/render_results_brief/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        engine=config["render"]["engine"],
    script:
        "../scripts/render_brief.py"
