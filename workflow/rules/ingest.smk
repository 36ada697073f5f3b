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
    from analysis.run.timers import cancel_pending_timers

    protect_tree(RESULTS)
    print_run_summary(RESULTS)
    cancel_pending_timers()  # the scheduler's idle timers would hold the exit ~1 s


onerror:
    from analysis.provenance.tiers import protect_tree
    from analysis.run.summary import print_run_summary
    from analysis.run.timers import cancel_pending_timers

    protect_tree(RESULTS)
    print_run_summary(RESULTS)
    cancel_pending_timers()  # the scheduler's idle timers would hold the exit ~1 s


# One job from the raw file to the cleaned wave: raw rows with direct identifiers are never
# written to disk, and each cell is typed once (workflow/scripts/prepare_wave.py).
rule prepare_wave:
    input:
        raw=raw_wave_file,
        codebook=codebook_file,
    output:
        quarantine=f"{RESULTS}/quarantine/{{dataset}}/{{wave}}.csv",
        report=f"{RESULTS}/quarantine/{{dataset}}/{{wave}}.report.json",
        table=f"{RESULTS}/clean/{{dataset}}/{{wave}}.parquet",
        # row-level: restricted tier (analysis/provenance/tiers.py), so never embedded in the report
        csv=f"{RESULTS}/clean/{{dataset}}/{{wave}}.csv",
        codebook=f"{RESULTS}/clean/{{dataset}}/{{wave}}.codebook.json",
        missing=f"{RESULTS}/clean/{{dataset}}/{{wave}}.missing.csv",
        record=f"{JOBS}/prepare_wave/{{dataset}}/{{wave}}.json",
    log:
        log=f"{LOGS}/prepare_wave/{{dataset}}/{{wave}}.log",
        # a wave whose every row is quarantined fails, and Snakemake deletes a failed job's
        # outputs: its quarantine is kept here (logs survive), owner-only
        quarantine=f"{LOGS}/prepare_wave/{{dataset}}/{{wave}}.quarantine.csv",
    conda:
        "../envs/wps.yaml"
    threads: prepare_threads
    params:
        on_row_error=on_row_error,
        pseudonymisation=config["pseudonymisation"],
    script:
        "../scripts/prepare_wave.py"
