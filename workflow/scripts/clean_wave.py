"""Snakemake adapter: clean one validated wave (identifiers out, pseudonyms in, labels applied).

The key comes from `pseudonymisation.key_file` (preferred) or its environment variable; the
public example key only for the bundled synthetic raw file (analysis.clean.pseudonymise.load_key).
The cleaned wave is row-level, so restricted tier: written owner-only (analysis.provenance.tiers).
"""

import json
from pathlib import Path

from analysis.clean.pseudonymise import load_key
from analysis.clean.wave import clean, pseudonymised_fields
from analysis.io import read_ingested
from analysis.provenance import job
from analysis.provenance.tiers import owner_only, protect
from analysis.tables import write_csv, write_json, write_parquet
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import refuse_wave_without_valid_rows, with_file_missing

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    settings = sm.params.pseudonymisation
    valid = read_ingested(Path(sm.input.valid), Path(sm.input.valid_meta))
    quarantine = Path(sm.input.valid.replace("/validated/", "/quarantine/")).with_suffix(".csv")
    refuse_wave_without_valid_rows(
        len(valid.data),
        json.loads(quarantine.with_suffix(".report.json").read_text(encoding="utf-8")),
        str(quarantine),
        sm.wildcards.dataset,
        str(sm.input.raw),
    )
    # the file's own user-missing codes apply too; their labels go to <field>__missing
    codebook = with_file_missing(load_codebook(Path(sm.input.codebook)), valid)
    # a table with no ID to pseudonymise (a results framework) needs no key, example or real
    key = (
        load_key(
            env_var=settings["key_env"],
            key_file=settings.get("key_file"),
            allow_example_key=settings["allow_example_key"],
            data_files=[Path(sm.input.raw)],
        )
        if pseudonymised_fields(codebook)
        else b""
    )
    result = clean(
        valid.data,
        codebook,
        dataset=sm.wildcards.dataset,
        wave=sm.wildcards.wave,
        key=key,
    )
    with owner_only():
        write_parquet(result.data, Path(sm.output.table))
        write_csv(result.data, Path(sm.output.csv))
        write_json(result.codebook, Path(sm.output.codebook))
        write_csv(result.missing_summary, Path(sm.output.missing))
    for name in ("table", "csv", "codebook", "missing"):
        protect(getattr(sm.output, name), sm.config["results_dir"])
    j.note("rows_clean", len(result.data))
