"""Coded interviews: theme tables, co-occurrence, sex differences, reliability, quote bank."""


rule analyse_interviews:
    input:
        table=clean_table_of_wave,
        codebook=codebook_file,
    output:
        frequencies=report(
            f"{RESULTS}/interviews/{{dataset}}/{{wave}}/frequencies.csv",
            category="Interviews",
            subcategory="{dataset} {wave}",
        ),
        themes=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/themes.csv",
        cooccurrence=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/cooccurrence.csv",
        theme_cooccurrence=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/theme_cooccurrence.csv",
        sex_differences=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/sex_differences.csv",
        reliability=report(
            f"{RESULTS}/interviews/{{dataset}}/{{wave}}/reliability.csv",
            category="Interviews",
            subcategory="{dataset} {wave}",
        ),
        quotes=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/quotes.csv",
        quotes_excluded=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/quotes_excluded.csv",
        record=f"{JOBS}/analyse_interviews/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/analyse_interviews/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        threshold=config["disclosure"]["threshold_interviews"],
        seed=config["seed"],
    script:
        "../scripts/analyse_interviews.py"
