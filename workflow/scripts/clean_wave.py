"""Snakemake adapter: clean one validated wave (identifiers out, pseudonyms in, labels applied)."""

from pathlib import Path

from analysis.clean import clean
from analysis.codebook import load_codebook
from analysis.io import read_ingested
from analysis.provenance import job
from analysis.pseudonymise import load_key
from analysis.tables import write_csv, write_json, write_parquet

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    settings = sm.params.pseudonymisation
    key = load_key(
        env_var=settings["key_env"],
        key_file=Path(settings["key_file"]) if settings.get("key_file") else None,
        allow_example_key=settings["allow_example_key"],
    )
    result = clean(
        read_ingested(Path(sm.input.valid), Path(sm.input.valid_meta)).data,
        load_codebook(Path(sm.input.codebook)),
        dataset=sm.wildcards.dataset,
        wave=sm.wildcards.wave,
        key=key,
    )
    write_parquet(result.data, Path(sm.output.table))
    write_csv(result.data, Path(sm.output.csv))
    write_json(result.codebook, Path(sm.output.codebook))
    write_csv(result.missing_summary, Path(sm.output.missing))
    j.note("rows_clean", len(result.data))
