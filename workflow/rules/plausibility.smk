"""Headline shares that move implausibly far between waves stop the briefs until confirmed."""


rule check_plausibility:
    input:
        unpack(plausibility_inputs),
    output:
        check=f"{RESULTS}/tables/{{dataset}}/{{wave}}/plausibility.json",
        record=f"{JOBS}/check_plausibility/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/check_plausibility/{{dataset}}/{{wave}}.log",
    priority: 10
    conda:
        "../envs/wps.yaml"
    params:
        previous=previous_wave_of_dataset,
        bound=config["plausibility"]["max_change_points"],
        confirmed=plausibility_confirmed,
    script:
        "../scripts/check_plausibility.py"
