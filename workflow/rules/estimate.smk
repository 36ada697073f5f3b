"""Design-based estimates and models from the analysis plan; pre/post training analysis."""


rule estimate_survey:
    input:
        table=clean_table_of_wave,
    output:
        parquet=f"{RESULTS}/tables/{{dataset}}/{{wave}}/estimates.parquet",
        csv=report(
            f"{RESULTS}/tables/{{dataset}}/{{wave}}/estimates.csv",
            category="Estimates",
            subcategory="{dataset} {wave}",
        ),
        record=f"{JOBS}/estimate_survey/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/estimate_survey/{{dataset}}/{{wave}}.log",
    priority: 10
    conda:
        "../envs/wps.yaml"
    params:
        spec=estimates_spec,
        derive=plan_derivations,
    script:
        "../scripts/estimate_survey.py"


rule fit_model:
    input:
        table=clean_table_of_wave,
    output:
        parquet=f"{RESULTS}/models/{{dataset}}/{{wave}}/{{model}}.parquet",
        csv=report(
            f"{RESULTS}/models/{{dataset}}/{{wave}}/{{model}}.csv",
            category="Models",
            subcategory="{dataset} {wave}",
        ),
        card=f"{RESULTS}/models/{{dataset}}/{{wave}}/{{model}}.card.json",
        figure_svg=report(
            f"{RESULTS}/models/{{dataset}}/{{wave}}/{{model}}.svg",
            category="Models",
            subcategory="{dataset} {wave}",
        ),
        figure_png=f"{RESULTS}/models/{{dataset}}/{{wave}}/{{model}}.png",
        figure_alt=f"{RESULTS}/models/{{dataset}}/{{wave}}/{{model}}.alt.txt",
        record=f"{JOBS}/fit_model/{{dataset}}/{{wave}}/{{model}}.json",
    log:
        f"{LOGS}/fit_model/{{dataset}}/{{wave}}/{{model}}.log",
    priority: 5
    conda:
        "../envs/wps.yaml"
    params:
        spec=model_spec,
        design=design_spec,
        derive=plan_derivations,
    script:
        "../scripts/fit_model.py"


rule analyse_training:
    input:
        table=clean_table_of_wave,
    output:
        parquet=f"{RESULTS}/tables/{{dataset}}/{{wave}}/prepost.parquet",
        csv=report(
            f"{RESULTS}/tables/{{dataset}}/{{wave}}/prepost.csv",
            category="Training",
            subcategory="{dataset} {wave}",
        ),
        attrition=f"{RESULTS}/tables/{{dataset}}/{{wave}}/attrition.csv",
        record=f"{JOBS}/analyse_training/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/analyse_training/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        seed=config["seed"],
    script:
        "../scripts/analyse_training.py"


rule compare_waves:
    input:
        estimates=trend_estimates,
    output:
        parquet=f"{RESULTS}/tables/{{dataset}}/trends.parquet",
        csv=report(
            f"{RESULTS}/tables/{{dataset}}/trends.csv",
            category="Estimates",
            subcategory="{dataset} trends",
        ),
        record=f"{JOBS}/compare_waves/{{dataset}}.json",
    log:
        f"{LOGS}/compare_waves/{{dataset}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        waves=trend_waves,
    script:
        "../scripts/compare_waves.py"
