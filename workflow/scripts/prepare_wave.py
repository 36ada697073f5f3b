"""Snakemake adapter: read one raw wave, check it against its codebook, and clean it, in one job.

One process from the raw file to the cleaned wave: raw rows (direct identifiers included) are
never written to disk, and every cell is typed once (validation's reading is reused by cleaning).
Bad rows go to the quarantine (named by row number, never by respondent ID:
analysis.validate.wave); the cleaned wave has identifiers dropped, IDs pseudonymised and labels
applied. The key comes from `pseudonymisation.key_file` (preferred) or its environment variable;
the public example key only for the bundled synthetic raw file
(analysis.clean.pseudonymise.load_key). The quarantine and the cleaned wave are restricted tier,
written owner-only (analysis.provenance.tiers).
"""

import dataclasses
from pathlib import Path

from analysis.clean.pseudonymise import load_key
from analysis.clean.wave import clean, pseudonymised_fields
from analysis.io import as_stored, read_raw
from analysis.provenance import job
from analysis.provenance.tiers import owner_only, protect
from analysis.tables import write_csv, write_json, write_table
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import refuse_wave_without_valid_rows, validate, with_file_missing

sm = snakemake  # noqa: F821 (snakemake is injected)
results = sm.config["results_dir"]

with job(sm) as j:
    dataset, raw = sm.wildcards.dataset, Path(sm.input.raw)
    # as the stored tables always gave it (plain metadata, object columns through Arrow)
    # a large wave's job has two threads: the read and the writes use both
    table = as_stored(read_raw(raw, dataset=dataset, processes=sm.threads))
    j.note("rows_read", len(table.data))
    own_codebook = load_codebook(Path(sm.input.codebook))
    checked = validate(
        table, own_codebook, dataset=dataset, file=str(raw), on_row_error=sm.params.on_row_error
    )
    with owner_only():
        write_csv(checked.quarantine, Path(sm.output.quarantine))
        write_json(checked.report, Path(sm.output.report))
    for name in ("quarantine", "report"):
        protect(getattr(sm.output, name), results)
    j.note("reconciliation", checked.report)
    # a failed job's outputs are deleted: the quarantine of a refused wave is kept beside the log
    kept_quarantine = Path(sm.log.quarantine)
    kept_quarantine.unlink(missing_ok=True)
    if not len(checked.valid):
        with owner_only():
            write_csv(checked.quarantine, kept_quarantine)
        protect(kept_quarantine, results)
    refuse_wave_without_valid_rows(
        len(checked.valid), checked.report, str(kept_quarantine), dataset, str(raw)
    )
    valid = dataclasses.replace(table, data=checked.valid)
    # the file's own user-missing codes apply too; their labels go to <field>__missing
    codebook = with_file_missing(own_codebook, valid)
    # a table with no ID to pseudonymise (a results framework) needs no key, example or real
    settings = sm.params.pseudonymisation
    key = (
        load_key(
            env_var=settings["key_env"],
            key_file=settings.get("key_file"),
            allow_example_key=settings["allow_example_key"],
            data_files=[raw],
        )
        if pseudonymised_fields(codebook)
        else b""
    )
    cleaned = clean(
        valid.data,
        codebook,
        dataset=dataset,
        wave=sm.wildcards.wave,
        key=key,
        parsed=checked.parsed_valid(),
    )
    with owner_only():
        tables = {"parquet": Path(sm.output.table), "csv": Path(sm.output.csv)}
        write_table(cleaned.data, **tables, threads=sm.threads)
        write_json(cleaned.codebook, Path(sm.output.codebook))
        write_csv(cleaned.missing_summary, Path(sm.output.missing))
    for name in ("table", "csv", "codebook", "missing"):
        protect(getattr(sm.output, name), results)
    j.note("rows_clean", len(cleaned.data))
