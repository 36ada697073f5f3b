"""Ingest, validate and clean each wave of each dataset."""


rule ingest_wave:
    input:
        raw=raw_wave_file,
    output:
        # temporary: raw rows with direct identifiers live only until validation has run
        table=temp(f"{RESULTS}/ingest/{{dataset}}/{{wave}}.parquet"),
        meta=temp(f"{RESULTS}/ingest/{{dataset}}/{{wave}}.meta.json"),
        record=f"{JOBS}/ingest_wave/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/ingest_wave/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    script:
        "../scripts/ingest_wave.py"


rule validate_wave:
    input:
        table=rules.ingest_wave.output.table,
        meta=rules.ingest_wave.output.meta,
        codebook=codebook_file,
        raw=raw_wave_file,
    output:
        # temporary: valid rows still carry direct identifiers until cleaning drops them
        valid=temp(f"{RESULTS}/validated/{{dataset}}/{{wave}}.parquet"),
        valid_meta=temp(f"{RESULTS}/validated/{{dataset}}/{{wave}}.meta.json"),
        quarantine=f"{RESULTS}/quarantine/{{dataset}}/{{wave}}.csv",
        report=f"{RESULTS}/quarantine/{{dataset}}/{{wave}}.report.json",
        record=f"{JOBS}/validate_wave/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/validate_wave/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        on_row_error=on_row_error,
    script:
        "../scripts/validate_wave.py"


rule clean_wave:
    input:
        valid=rules.validate_wave.output.valid,
        valid_meta=rules.validate_wave.output.valid_meta,
        codebook=codebook_file,
    output:
        table=f"{RESULTS}/clean/{{dataset}}/{{wave}}.parquet",
        csv=report(
            f"{RESULTS}/clean/{{dataset}}/{{wave}}.csv",
            category="Cleaned tables",
            subcategory="{dataset}",
        ),
        codebook=f"{RESULTS}/clean/{{dataset}}/{{wave}}.codebook.json",
        missing=f"{RESULTS}/clean/{{dataset}}/{{wave}}.missing.csv",
        record=f"{JOBS}/clean_wave/{{dataset}}/{{wave}}.json",
    log:
        f"{LOGS}/clean_wave/{{dataset}}/{{wave}}.log",
    conda:
        "../envs/wps.yaml"
    params:
        pseudonymisation=config["pseudonymisation"],
    script:
        "../scripts/clean_wave.py"
