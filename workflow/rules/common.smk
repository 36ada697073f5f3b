"""Helpers shared by the workflow's rules (paths, wave discovery, input functions; no lambdas)."""

import sys
from functools import cache
from pathlib import Path

from analysis.config.checks import check_config
from analysis.ingest.discover import wave_files
from analysis.errors import WpsInputError
from analysis.hashing import DESCRIBED_INPUT
from analysis.interviews.review import REVIEWS_FILE
from analysis.ingest.raw_integrity import check_raw_inputs
from analysis.config.plan import design_of, load_plan
from analysis.render.projects import (
    REGIONAL_ONLY,
    brief_document,
    brief_kind,
    brief_project,
    brief_source_files,
)

RAW = Path(config["raw_dir"])
# Before anything reads data/raw: links out of it and files that are not waves refused (one
# clear message), files compared with SHA256SUMS (differences named on the console).
try:
    check_raw_inputs(RAW, datasets=config["datasets"])
except WpsInputError as err:
    raise WorkflowError(str(err)) from None


def sorted_keys(data):
    """`data` with the keys of every mapping in sorted order (lists keep theirs). Snakemake
    compares a job's params by their repr: keys reordered in config or plan rerun no job.
    """
    if isinstance(data, dict):
        return {key: sorted_keys(data[key]) for key in sorted(data, key=str)}
    if isinstance(data, list):
        return [sorted_keys(item) for item in data]
    return data


for _key in list(config):
    config[_key] = sorted_keys(config[_key])
RESULTS = config["results_dir"]
LOGS = f"{RESULTS}/logs"
JOBS = f"{RESULTS}/provenance/jobs"
PLAN = sorted_keys(load_plan(config["plan"]))  # {dataset: plan entry}
try:
    found_waves = {name: wave_files(RAW / name) for name in config["datasets"]}
    for note in check_config(config, PLAN, found_waves):
        print(f"note: {note}", file=sys.stderr)
except WpsInputError as err:
    raise WorkflowError(str(err)) from None
BRIEF_DATASET = config.get("brief_dataset")  # None: no regional and country briefs
PLAN_MODELS = {
    dataset: {model["id"]: model for model in entry.get("models", [])}
    for dataset, entry in PLAN.items()
}


@cache
def dataset_wave_files(dataset: str) -> dict[str, Path]:
    """{wave: raw file} of one dataset, read from disk once per Snakemake process (the input
    functions ask hundreds of times while the DAG is built; the raw folder does not change).
    """
    return wave_files(RAW / dataset)


def waves(dataset: str) -> list[str]:
    """Waves of one dataset, found on disk at every run: a new file is a new wave."""
    return list(dataset_wave_files(dataset))


def datasets_of_kind(kind: str) -> list[str]:
    return sorted(
        name for name, spec in config["datasets"].items() if spec["kind"] == kind
    )


def raw_file(dataset: str, wave: str) -> str:
    """The raw file of a dataset's wave, whatever its extension."""
    files = dataset_wave_files(dataset)
    if wave not in files:
        raise ValueError(f"{dataset}: no raw file for wave '{wave}' in {RAW / dataset}")
    return str(files[wave])


def raw_wave_file(wildcards) -> str:
    return raw_file(wildcards.dataset, wildcards.wave)


def prepare_threads(wildcards, input) -> int:
    """Two threads for a large raw wave (its cleaned table's Parquet and CSV are written at
    once, analysis.tables.writer_threads), one otherwise."""
    from analysis.tables import writer_threads

    return writer_threads(Path(input.raw).stat().st_size / 1e6)


def codebook_file(wildcards) -> str:
    return str(RAW / wildcards.dataset / "codebook.json")


def quote_reviews(wildcards) -> dict[str, str]:
    """A person's decisions on a dataset's quotes (data/raw/<dataset>/_quote_reviews.csv),
    when there are any: without them no quote reaches a brief."""
    path = RAW / wildcards.dataset / REVIEWS_FILE
    return {"reviews": str(path)} if path.is_file() else {}


def dataset_config(wildcards) -> dict:
    return config["datasets"][wildcards.dataset]


def on_row_error(wildcards) -> str:
    return config["datasets"][wildcards.dataset].get("on_row_error", "quarantine")


def clean_table(dataset: str, wave: str) -> str:
    return f"{RESULTS}/clean/{dataset}/{wave}.parquet"


def brief_waves() -> list[str]:
    return waves(BRIEF_DATASET) if BRIEF_DATASET else []


def latest_of(kind: str) -> dict[str, str]:
    """Latest wave of every dataset of a kind, as {dataset: wave}."""
    found = {}
    for dataset in datasets_of_kind(kind):
        names = waves(dataset)
        if names:
            found[dataset] = names[-1]  # wave names sort chronologically
    return found


def model_spec(wildcards) -> dict:
    return PLAN_MODELS[wildcards.dataset][wildcards.model]


def design_spec(wildcards) -> dict | str:
    """The design of this wave: its own under the plan's `waves:`, else the dataset's."""
    return design_of(PLAN[wildcards.dataset], wildcards.wave)


def plan_derivations(wildcards) -> list[dict]:
    """The derived variables the plan declares for a dataset (none when it declares none)."""
    return PLAN[wildcards.dataset].get("derive", [])


def estimates_spec(wildcards) -> dict:
    entry = PLAN[wildcards.dataset]
    return {"design": design_spec(wildcards), "estimates": entry.get("estimates", [])}


def all_clean_tables() -> list[str]:
    return [
        clean_table(dataset, wave)
        for dataset in config["datasets"]
        for wave in waves(dataset)
    ]


def clean_table_of_wave(wildcards) -> str:
    return clean_table(wildcards.dataset, wildcards.wave)


# ---- briefs ---------------------------------------------------------------------------------

INTERVIEW_TABLES = (
    "frequencies",
    "themes",
    "cooccurrence",
    "theme_cooccurrence",
    "sex_differences",
    "reliability",
)
FIGURES = ("women_by_country", "training_gain", "code_cooccurrence")
MODEL_FILES = (
    "parquet",
    "csv",
    "card.json",
    "svg",
    "png",
    "alt.txt",
)  # rule fit_model's
FIGURE_FILES = {"svg": "svg", "png": "png", "alt": "alt.txt"}
BRIEF_FORMATS = tuple(config["render"]["formats"])
# Official statistics for the regional brief's context section: the files the user saved and
# configured (none by default; without them the brief omits the section).
CONTEXT_SOURCES = {
    key: str(path)
    for key, path in sorted((config.get("context") or {}).items())
    if path
}
CONTEXT_TABLES = ("glotip_victims", "glotip_exploitation", "female_police")


def context_sources(wildcards) -> dict[str, str]:
    """The configured official-statistics files, by config key (a changed file reruns)."""
    return dict(CONTEXT_SOURCES)


def context_outputs() -> dict[str, str]:
    return {name: f"{RESULTS}/context/{name}.csv" for name in CONTEXT_TABLES}


def context_tables() -> dict[str, str]:
    """The regional brief's context tables and section template, when a source is configured."""
    if not CONTEXT_SOURCES:
        return {}
    tables = {f"context_{name}": path for name, path in context_outputs().items()}
    return {
        **tables,
        "context_template": str(brief_project("regional") / "text/context.md"),
        # the downloaded files themselves: the brief's inputs description lists them
        **{f"raw_context_{key}": path for key, path in CONTEXT_SOURCES.items()},
    }


def previous_wave(wave: str) -> str | None:
    earlier = [w for w in brief_waves() if w < wave]
    return earlier[-1] if earlier else None


def previous_wave_of(wildcards) -> str | None:
    return previous_wave(wildcards.wave)


def previous_wave_of_dataset(wildcards) -> str | None:
    """The wave before this one of the same dataset (waves sorted by name), or None."""
    earlier = [w for w in sorted(waves(wildcards.dataset)) if w < wildcards.wave]
    return earlier[-1] if earlier else None


def plausibility_inputs(wildcards) -> dict[str, str]:
    base = f"{RESULTS}/tables/{wildcards.dataset}"
    files = {"estimates": f"{base}/{wildcards.wave}/estimates.parquet"}
    previous = previous_wave_of_dataset(wildcards)
    if previous is not None:
        files["previous"] = f"{base}/{previous}/estimates.parquet"
    return files


def plausibility_confirmed(wildcards) -> list[str]:
    """This wave's entry of `plausibility.confirmed`, if listed: confirming one wave reruns
    that wave's check only."""
    name = f"{wildcards.dataset}/{wildcards.wave}"
    return [entry for entry in config["plausibility"]["confirmed"] if entry == name]


def plausibility_check(dataset: str, wave: str) -> str:
    """The plausibility check a wave's briefs wait for."""
    return f"{RESULTS}/tables/{dataset}/{wave}/plausibility.json"


def brief_plausibility(wildcards) -> str:
    return plausibility_check(BRIEF_DATASET, wildcards.wave)


def dataset_plausibility(wildcards) -> str:
    return plausibility_check(wildcards.dataset, wildcards.wave)


def brief_raw_inputs(wildcards) -> dict[str, str]:
    """Raw files and codebooks a wave's briefs rest on (their hashes make the run ID)."""
    survey = config["brief_dataset"]
    files = {
        f"raw_{survey}": raw_file(survey, wildcards.wave),
        f"codebook_{survey}": str(RAW / survey / "codebook.json"),
    }
    previous = previous_wave(wildcards.wave)
    # the briefs compare with the previous wave (and so does their plausibility check)
    if previous is not None:
        files[f"raw_{survey}_previous"] = raw_file(survey, previous)
    for kind in ("training", "interviews"):
        for dataset, wave in latest_of(kind).items():
            files[f"raw_{dataset}"] = raw_file(dataset, wave)
            files[f"codebook_{dataset}"] = str(RAW / dataset / "codebook.json")
            # the quote bank holds only the quotes a person approved there
            reviews = RAW / dataset / REVIEWS_FILE
            if reviews.is_file():
                files[f"raw_{dataset}_quote_reviews"] = str(reviews)
    return files


def described(files: dict[str, str]) -> dict[str, str]:
    """`files` and the lock file, named as inputs a findings job hashes into its wave's inputs
    description (analysis.hashing.DESCRIBED_INPUT)."""
    files = {**files, "lock": "requirements.lock"}
    return {f"{DESCRIBED_INPUT}{role}": path for role, path in files.items()}


def brief_described_inputs(wildcards) -> dict[str, str]:
    return described(brief_raw_inputs(wildcards))


def brief_clean_table(wildcards) -> str:
    return clean_table(config["brief_dataset"], wildcards.wave)


#: The tables the wave's figures are drawn from (workflow/scripts/draw_figures.py)
FIGURE_TABLES = ("estimates", "prepost", "interviews_theme_cooccurrence")


def figure_tables(wildcards) -> dict[str, str]:
    """The tables of the wave's figures alone: the figures need no model, so they are drawn
    beside the models rather than after them."""
    tables = brief_tables(wildcards)
    return {name: tables[name] for name in FIGURE_TABLES if name in tables}


def brief_tables(wildcards) -> dict[str, str]:
    """Every table a wave's figures and findings read, by name."""
    survey = config["brief_dataset"]
    tables = {
        "estimates": f"{RESULTS}/tables/{survey}/{wildcards.wave}/estimates.parquet"
    }
    previous = previous_wave(wildcards.wave)
    if previous is not None:
        tables["estimates_previous"] = (
            f"{RESULTS}/tables/{survey}/{previous}/estimates.parquet"
        )
    for model in sorted(PLAN_MODELS.get(survey, {})):
        tables[f"model_{model}"] = (
            f"{RESULTS}/models/{survey}/{wildcards.wave}/{model}.parquet"
        )
        tables[f"card_{model}"] = (
            f"{RESULTS}/models/{survey}/{wildcards.wave}/{model}.card.json"
        )
    for dataset, wave in latest_of("training").items():
        tables["prepost"] = f"{RESULTS}/tables/{dataset}/{wave}/prepost.parquet"
        tables["attrition"] = f"{RESULTS}/tables/{dataset}/{wave}/attrition.csv"
    for dataset, wave in latest_of("interviews").items():
        base = f"{RESULTS}/interviews/{dataset}/{wave}"
        for name in INTERVIEW_TABLES:
            tables[f"interviews_{name}"] = f"{base}/{name}.csv"
        tables["quotes"] = f"{base}/quotes.csv"
        tables["interviews_codebook"] = (
            f"{RESULTS}/clean/{dataset}/{wave}.codebook.json"
        )
    return tables


def plan_slice(dataset: str, wave: str) -> dict:
    """A dataset's plan entry as one wave uses it: design, derivations, estimates, models."""
    entry = PLAN.get(dataset) or {}
    return {
        "dataset": dataset,
        "design": design_of(entry, wave) if entry else None,
        "derive": entry.get("derive", []),
        "estimates": entry.get("estimates", []),
        "models": entry.get("models", []),
    }


WAVE_BRIEF_KINDS = ("regional", "country")


def wave_brief_settings(wildcards) -> dict:
    """{kind: the plan entry and config values a regional or country brief may use}: a change
    to them reruns the wave's findings; a brief's run ID covers the config values of its kind
    and the plan entries it cites."""
    disclosure = config["disclosure"]
    used = {
        "regional": {"disclosure": disclosure, "seed": config["seed"]},
        "country": {
            "threshold_officers": disclosure["threshold_officers"],
            "min_respondents_country": config["briefs"]["min_respondents_country"],
        },
    }
    plan = plan_slice(BRIEF_DATASET, wildcards.wave)
    return {kind: {"plan": plan, "config": used[kind]} for kind in WAVE_BRIEF_KINDS}


def regional_brief_inputs(wildcards) -> dict[str, str]:
    """What only the regional brief reads: its choice of quote (country briefs quote no
    interview), the context tables and the programme results, when configured."""
    inputs = {
        "quote_choice": str(brief_project("regional") / "text/quotes.yaml"),
        **context_tables(),
        **programme_results_tables(),
    }
    return {f"{REGIONAL_ONLY}{name}": path for name, path in inputs.items()}


def wave_brief_declarations(wildcards) -> dict[str, str]:
    """Each wave brief kind's declaration of the numbers it quotes, and the document quoting
    them (`declaration_<kind>`, `document_<kind>`)."""
    files = {}
    for kind in WAVE_BRIEF_KINDS:
        files[f"declaration_{kind}"] = str(brief_project(kind) / "numbers.yaml")
        files[f"document_{kind}"] = str(brief_document(kind))
    return files


def wave_findings_dir(wave: str) -> str:
    """The folder of a wave's findings (one file per brief, and the brief plan), once the
    wave's build_findings checkpoint has run."""
    return checkpoints.build_findings.get(wave=wave).output.findings


def wave_briefs_plan(wildcards) -> str:
    """The wave's brief plan: which countries get a brief, and which a note."""
    return f"{wave_findings_dir(wildcards.wave)}/briefs.json"


def brief_findings(wildcards) -> str:
    """One brief's findings file, in its wave's findings folder."""
    return f"{wave_findings_dir(wildcards.wave)}/{wildcards.brief}.yaml"


def country_targets(wave: str) -> list[str]:
    """A wave's country briefs and notes, from its brief plan (written by the wave's
    build_findings checkpoint)."""
    import json

    if not config["briefs"].get("countries", True):
        return []
    plan_file = Path(wave_findings_dir(wave)) / "briefs.json"
    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    targets = [
        f"{RESULTS}/briefs/{wave}/{entry['slug']}.{fmt}"
        for entry in plan["briefs"]
        for fmt in BRIEF_FORMATS
    ]
    targets += [
        f"{RESULTS}/briefs/{wave}/{entry['slug']}.note.md" for entry in plan["notes"]
    ]
    return sorted(targets)


def country_targets_of(wave: str):
    """An input function: the country briefs and notes of one wave."""

    def targets(wildcards) -> list[str]:
        return country_targets(wave)

    return targets


def figure_outputs() -> dict[str, str]:
    return {
        f"{name}_{kind}": f"{RESULTS}/figures/{{wave}}/{name}.{ext}"
        for name in FIGURES
        for kind, ext in FIGURE_FILES.items()
    }


def figure_inputs(wildcards) -> dict[str, str]:
    return {
        f"figure_{key}": path.format(wave=wildcards.wave)
        for key, path in figure_outputs().items()
    }


def figure_inputs_list(wildcards) -> list[str]:
    return sorted(figure_inputs(wildcards).values())


def brief_kind_sources(kind: str) -> dict[str, str]:
    """A brief kind's own Quarto project (document, words, settings) and the house style:
    a change to them re-renders the briefs of that kind only."""
    qmd = brief_document(kind)
    files = [p for p in brief_source_files(brief_project(kind)) if p != qmd]
    files += sorted(p for p in Path("analysis/style").rglob("*") if p.is_file())
    return {"qmd": str(qmd), **{f"source_{i}": str(p) for i, p in enumerate(files)}}


def brief_sources(wildcards) -> dict[str, str]:
    return brief_kind_sources(brief_kind(wildcards.brief))


def brief_outputs() -> dict[str, str]:
    return {fmt: f"{RESULTS}/briefs/{{wave}}/{{brief}}.{fmt}" for fmt in BRIEF_FORMATS}


def final_outputs() -> dict:
    """Everything the default target asks for, as named input functions
    (`input: **final_outputs()`): `outputs`, the targets known before the workflow starts, and
    `countries_<n>`, the country briefs and notes of the n-th wave, known only once that
    wave's build_findings checkpoint has written its brief plan.

    One function per wave: Snakemake stops an input function at the first checkpoint that is
    still to run, so with one function for all waves a wave whose findings must be made again
    would hide the other waves' jobs from the plan (`snakemake -n`).
    """
    functions = {"outputs": fixed_targets_of}
    for number, wave in enumerate(brief_waves()):
        functions[f"countries_{number}"] = country_targets_of(wave)
    return functions


def fixed_targets_of(wildcards) -> list[str]:
    """An input function: fixed_targets()."""
    return fixed_targets()


def fixed_targets() -> list[str]:
    """Targets known before the workflow starts: regional briefs and per-wave tables."""
    targets: list[str] = []
    for wave in brief_waves():
        targets += [f"{RESULTS}/briefs/{wave}/regional.{fmt}" for fmt in BRIEF_FORMATS]
        # the wave's findings folder itself: its job stays in the DAG once done, so the report
        # shows its findings and the manifest follows its job record
        targets.append(f"{RESULTS}/findings/{wave}")
    for dataset, spec in sorted(config["datasets"].items()):
        for wave in waves(dataset):
            targets.append(f"{RESULTS}/clean/{dataset}/{wave}.parquet")
            if spec["kind"] == "survey" and dataset in PLAN:
                targets.append(f"{RESULTS}/tables/{dataset}/{wave}/estimates.parquet")
                # every file of every model (figure, PNG and alt text included), so the
                # manifest's targets name each one and `wps audit` can say which is missing
                targets += [
                    f"{RESULTS}/models/{dataset}/{wave}/{model}.{ext}"
                    for model in sorted(PLAN_MODELS.get(dataset, {}))
                    for ext in MODEL_FILES
                ]
            elif spec["kind"] == "training":
                targets.append(f"{RESULTS}/tables/{dataset}/{wave}/prepost.parquet")
            elif spec["kind"] == "interviews":
                targets.append(f"{RESULTS}/interviews/{dataset}/{wave}/frequencies.csv")
    targets += trend_targets()
    targets += dataset_brief_targets()
    targets += own_brief_targets()  # workflow/rules/own_briefs.smk
    targets += results_brief_targets()  # workflow/rules/results_framework.smk
    return targets


# ---- the default brief of each survey dataset ------------------------------------------------

SURVEY_BRIEF_KIND = "survey"


def dataset_brief_datasets() -> list[str]:
    """Survey datasets that get a default brief: those with a plan entry."""
    return [d for d in datasets_of_kind("survey") if d in PLAN]


def dataset_brief_targets() -> list[str]:
    return [
        path.format(dataset=dataset, wave=wave)
        for dataset in dataset_brief_datasets()
        for wave in waves(dataset)
        for path in dataset_brief_outputs().values()
    ]


def dataset_brief_outputs() -> dict[str, str]:
    return {
        fmt: f"{RESULTS}/briefs/survey/{{dataset}}/{{wave}}/{{dataset}}.{fmt}"
        for fmt in BRIEF_FORMATS
    }


def dataset_raw_inputs(wildcards) -> dict[str, str]:
    """The raw file and codebook a dataset brief rests on (their hashes make its run ID)."""
    return {
        f"raw_{wildcards.dataset}": raw_file(wildcards.dataset, wildcards.wave),
        f"codebook_{wildcards.dataset}": codebook_file(wildcards),
    }


def dataset_brief_raw_inputs(wildcards) -> dict[str, str]:
    """A dataset brief's raw file and codebook, and the previous wave's raw file (its
    plausibility check, which the brief waits for, compares with it)."""
    files = dataset_raw_inputs(wildcards)
    previous = previous_wave_of_dataset(wildcards)
    if previous is not None:
        files[f"raw_{wildcards.dataset}_previous"] = raw_file(
            wildcards.dataset, previous
        )
    return files


def dataset_brief_described_inputs(wildcards) -> dict[str, str]:
    return described(dataset_brief_raw_inputs(wildcards))


def dataset_model_ids(wildcards) -> list[str]:
    return sorted(PLAN_MODELS.get(wildcards.dataset, {}))


def dataset_model_files(wildcards) -> dict[str, str]:
    """Each model's terms table, card and figure files, by name."""
    files = {}
    for model in dataset_model_ids(wildcards):
        base = f"{RESULTS}/models/{wildcards.dataset}/{wildcards.wave}/{model}"
        for key, ext in (("model", "parquet"), ("card", "card.json"), ("svg", "svg")):
            files[f"{key}_{model}"] = f"{base}.{ext}"
        files[f"png_{model}"] = f"{base}.png"
        files[f"alt_{model}"] = f"{base}.alt.txt"
    return files


def dataset_brief_tables(wildcards) -> dict[str, str]:
    estimates = (
        f"{RESULTS}/tables/{wildcards.dataset}/{wildcards.wave}/estimates.parquet"
    )
    return {"estimates": estimates, **dataset_model_files(wildcards)}


def dataset_figure_list(wildcards) -> list[str]:
    return sorted(
        path
        for key, path in dataset_model_files(wildcards).items()
        if key.startswith(("svg_", "png_"))
    )


def dataset_brief_settings(wildcards) -> dict:
    """The plan entry and config value a dataset's default brief uses (all of its entry: the
    brief prints every estimate and model); its run ID covers them."""
    return {
        "plan": plan_slice(wildcards.dataset, wildcards.wave),
        "config": {"threshold_officers": config["disclosure"]["threshold_officers"]},
    }


def dataset_brief_sources(wildcards) -> dict[str, str]:
    return brief_kind_sources(SURVEY_BRIEF_KIND)


# ---- trends ---------------------------------------------------------------------------------


def trend_waves(wildcards) -> list[str]:
    """Waves of a survey dataset in the order trends compare them (sorted by name)."""
    return sorted(waves(wildcards.dataset))


def trend_estimates(wildcards) -> list[str]:
    """The estimates table of every wave of a survey dataset, in the order of trend_waves."""
    return [
        f"{RESULTS}/tables/{wildcards.dataset}/{wave}/estimates.parquet"
        for wave in trend_waves(wildcards)
    ]


def trend_targets() -> list[str]:
    """Trends tables of every survey dataset with estimates in the plan (for `rule all`)."""
    return [
        f"{RESULTS}/tables/{dataset}/trends.parquet"
        for dataset in datasets_of_kind("survey")
        if PLAN.get(dataset, {}).get("estimates") and waves(dataset)
    ]


# ---- the results framework's brief (workflow/rules/results_framework.smk) -------------------

RESULTS_BRIEF_KIND = "results"


def results_framework_datasets() -> list[str]:
    return datasets_of_kind("results_framework")


def results_brief_outputs() -> dict[str, str]:
    return {
        fmt: f"{RESULTS}/briefs/results/{{dataset}}/{{wave}}/{{dataset}}.{fmt}"
        for fmt in BRIEF_FORMATS
    }


def results_brief_targets() -> list[str]:
    """The results brief of every wave of every results framework (for `rule all`)."""
    return [
        path.format(dataset=dataset, wave=wave)
        for dataset in results_framework_datasets()
        for wave in waves(dataset)
        for path in results_brief_outputs().values()
    ]


def results_brief_sources(wildcards) -> dict[str, str]:
    return brief_kind_sources(RESULTS_BRIEF_KIND)


def results_progress_outputs() -> dict[str, str]:
    figures = f"{RESULTS}/figures/results/{{dataset}}/{{wave}}/progress"
    return {
        "table": f"{RESULTS}/tables/{{dataset}}/{{wave}}/progress.parquet",
        "csv": f"{RESULTS}/tables/{{dataset}}/{{wave}}/progress.csv",
        "svg": f"{figures}.svg",
        "png": f"{figures}.png",
        "alt": f"{figures}.alt.txt",
    }


def programme_results_tables() -> dict[str, str]:
    """The regional brief's programme results section: the progress table and codebook of the
    first results framework's latest wave (analysis/findings/programme_results.py); none without one.
    """
    frameworks = [d for d in results_framework_datasets() if waves(d)]
    if not frameworks:
        return {}
    dataset = frameworks[0]
    wave = sorted(waves(dataset))[-1]
    return {
        "programme_progress": f"{RESULTS}/tables/{dataset}/{wave}/progress.parquet",
        "programme_codebook": f"{RESULTS}/clean/{dataset}/{wave}.codebook.json",
        # the framework's raw file and codebook: the brief's inputs description lists them
        f"raw_{dataset}": raw_file(dataset, wave),
        f"codebook_{dataset}": str(RAW / dataset / "codebook.json"),
    }


# ---- a survey's own declared brief (workflow/rules/own_briefs.smk) -------------------------

import re

from analysis.render.own_briefs import own_briefs

# {dataset: brief name}, each checked before any rule runs
try:
    OWN_BRIEFS = own_briefs(config, PLAN)
except WpsInputError as err:
    raise WorkflowError(str(err)) from None
# Only the configured names: reports/survey/... and reports/results/... stay other rules' paths.
OWN_BRIEF_NAMES = "|".join(sorted({re.escape(n) for n in OWN_BRIEFS.values()}))
OWN_BRIEF_NAMES = OWN_BRIEF_NAMES or "(?!)"  # none configured: matches nothing
OWN_DATASETS = "|".join(sorted(re.escape(d) for d in OWN_BRIEFS)) or "(?!)"


def own_brief_outputs() -> dict[str, str]:
    return {
        fmt: f"{RESULTS}/briefs/{{brief}}/{{dataset}}/{{wave}}/{{brief}}.{fmt}"
        for fmt in BRIEF_FORMATS
    }


def own_brief_targets() -> list[str]:
    """Every wave's own brief of every dataset that names one (for `rule all`)."""
    return [
        path.format(brief=name, dataset=dataset, wave=wave)
        for dataset, name in sorted(OWN_BRIEFS.items())
        for wave in waves(dataset)
        for path in own_brief_outputs().values()
    ]


def own_brief_declaration(wildcards) -> dict[str, str]:
    project = brief_project(wildcards.brief)
    return {
        "declaration": str(project / "numbers.yaml"),
        "document": str(brief_document(wildcards.brief)),
    }


def own_brief_tables(wildcards) -> dict[str, str]:
    """The tables an own brief's numbers may name: `estimates`, `estimates_previous`,
    `model_<id>`, `card_<id>` and `codebook` (the cleaned wave's labels)."""
    base = f"{RESULTS}/tables/{wildcards.dataset}"
    tables = {
        "estimates": f"{base}/{wildcards.wave}/estimates.parquet",
        "codebook": f"{RESULTS}/clean/{wildcards.dataset}/{wildcards.wave}.codebook.json",
    }
    previous = previous_wave_of_dataset(wildcards)
    if previous is not None:
        tables["estimates_previous"] = f"{base}/{previous}/estimates.parquet"
    files = dataset_model_files(wildcards)
    for model in dataset_model_ids(wildcards):
        tables[f"model_{model}"] = files[f"model_{model}"]
        tables[f"card_{model}"] = files[f"card_{model}"]
    return tables


def own_brief_figures(wildcards) -> dict[str, str]:
    """Each model's figure files as a `figures` section names them: figure_<model>_<ext>."""
    files = dataset_model_files(wildcards)
    return {
        f"figure_{model}_{kind}": files[f"{kind}_{model}"]
        for model in dataset_model_ids(wildcards)
        for kind in ("svg", "png", "alt")
    }


def own_brief_figure_list(wildcards) -> list[str]:
    return sorted(own_brief_figures(wildcards).values())


def own_brief_settings(wildcards) -> dict:
    """The plan entry and config values an own brief may use: a change to them reruns its
    findings; its run ID covers the config values and the plan entries it cites."""
    return {
        "plan": plan_slice(wildcards.dataset, wildcards.wave),
        "config": {"disclosure": config["disclosure"]},
    }


def own_brief_sources(wildcards) -> dict[str, str]:
    return brief_kind_sources(wildcards.brief)
