"""Coded interviews: theme tables, co-occurrence, sex differences, reliability, quote bank."""


rule analyse_interviews:
    input:
        unpack(quote_reviews),
        table=clean_table_of_wave,
        codebook=codebook_file,
    output:
        # Only tables through disclosure control (themes, theme co-occurrence) go in the report;
        # the others have cells of 1-4 interviewees or quotes: restricted tier
        # (analysis/provenance/tiers.py). quotes.csv holds only quotes a person approved;
        # quote_review.csv every candidate, redacted, for that review.
        frequencies=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/frequencies.csv",
        themes=report(
            f"{RESULTS}/interviews/{{dataset}}/{{wave}}/themes.csv",
            category="Interviews",
            subcategory="{dataset} {wave}",
        ),
        cooccurrence=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/cooccurrence.csv",
        theme_cooccurrence=report(
            f"{RESULTS}/interviews/{{dataset}}/{{wave}}/theme_cooccurrence.csv",
            category="Interviews",
            subcategory="{dataset} {wave}",
        ),
        sex_differences=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/sex_differences.csv",
        reliability=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/reliability.csv",
        quotes=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/quotes.csv",
        quotes_excluded=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/quotes_excluded.csv",
        quote_review=f"{RESULTS}/interviews/{{dataset}}/{{wave}}/quote_review.csv",
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
