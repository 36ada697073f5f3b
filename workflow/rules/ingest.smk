"""Ingest, validate and clean each wave of each dataset."""

import sys


# Once per run, on the console (the clean jobs' stderr goes to their logs): the public example
# key's warning, and raw rows left by waves that no longer exist deleted, as are the half-written
# files (hidden .tmp) a killed run left. When a run starts (after a killed one) and ends, every
# restricted output is made owner-only (analysis/provenance/tiers.py). At the end, one summary:
# the jobs that failed (the others ran: `make run` keeps going) and every warning about the data
# (analysis/run/summary.py). Snakemake runs none of these hooks when there is nothing to do, so
# their modules are imported inside them: a no-op run never loads them.
onstart:
    from analysis.atomic import remove_partial_files
    from analysis.clean.pseudonymise import warn_if_example_key
    from analysis.provenance.tiers import (
        protect_tree,
        remove_leftover_identifier_tables,
    )
    from analysis.run.cluster import controller_checks as cluster_controller_checks
    from analysis.run.summary import clear_failure_notes

    # SLURM: the key from a key file only; shared paths (analysis/run/cluster.py)
    cluster_controller_checks(workflow, config, Path(workflow.basedir))
    clear_failure_notes(RESULTS)
    warn_if_example_key(config["pseudonymisation"])
    protect_tree(RESULTS)
    for leftover in remove_leftover_identifier_tables(RESULTS, RAW):
        print(
            f"deleted raw rows of a wave that no longer exists: {leftover}",
            file=sys.stderr,
        )
    for partial in remove_partial_files(RESULTS):
        print(
            f"deleted a half-written file left by an interrupted run: {partial}",
            file=sys.stderr,
        )


onsuccess:
    from analysis.provenance.tiers import protect_tree
    from analysis.run.summary import print_run_summary

    protect_tree(RESULTS)
    print_run_summary(RESULTS)


onerror:
    from analysis.provenance.tiers import protect_tree
    from analysis.run.summary import print_run_summary

    protect_tree(RESULTS)
    print_run_summary(RESULTS)


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
        # its checksum says whether the public example key may be used (bundled data only)
        raw=raw_wave_file,
    output:
        table=f"{RESULTS}/clean/{{dataset}}/{{wave}}.parquet",
        # row-level: restricted tier (analysis/provenance/tiers.py), so never embedded in the report
        csv=f"{RESULTS}/clean/{{dataset}}/{{wave}}.csv",
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
