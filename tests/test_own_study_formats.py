"""Real SPSS and Stata files, from file to brief, as a new user brings them: `wps codebook draft`,
the decisions `wps codebook check` asks for, config and plan edits only, then the workflow.

The files are in ../shared/reference-data/formats (never copied into the repository):

- `haven/iris.sav`: R's `iris` as haven writes it: value labels on `Species` (1 setosa, 2
  versicolor, 3 virginica) and names that are not identifiers (`Sepal.Length`), mapped by the
  drafted codebook's `x-source-name`; no design (`design: none`), a derived variable declared in
  the plan (`Sepal_Length > 5.8`) and a logistic model counting it (`event: 1`);
- `haven/iris.dta`: the same data from Stata, species as text; a logistic model whose declared
  event is the text level `virginica`, in the domain of two species;
- `pyreadstat/basic_sample_missing.sav`: SPSS user-missing values, a range (`2000 thru 3000`)
  and labelled codes (`-1 = undetermined`), with no plan entry (ingested, validated, cleaned).

Estimates and model coefficients must equal R survey's on R's own `datasets::iris`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from r_oracle import requires_r, run_r
from workflow_run import copy_project, run_snakemake, snakemake_executable


def reference_data() -> Path:
    """../shared/reference-data beside the repository (or beside a worktree's parent folder)."""
    for folder in Path(__file__).resolve().parents[1:4]:
        if (folder / "shared" / "reference-data").is_dir():
            return folder / "shared" / "reference-data"
    return Path(__file__).resolve().parents[2] / "shared" / "reference-data"


FORMATS = reference_data() / "formats"
# dataset: (reference file, the wave's file name in the dataset folder)
FILES = {
    "iris_spss": ("haven/iris.sav", "fisher.sav"),
    "iris_stata": ("haven/iris.dta", "fisher.dta"),
    "missing_codes": ("pyreadstat/basic_sample_missing.sav", "sample.sav"),
}
BRIEFED = ("iris_spss", "iris_stata")
DROPPED_BY_USER = ("missing_codes", "mytime")  # a column the user leaves out of the codebook
PLAN = {
    "iris_spss": {
        "design": "none",
        "derive": [{"name": "long_sepal", "expr": "Sepal_Length > 5.8",
                    "label": "Sepal longer than 5.8 cm"}],
        "estimates": [
            {"id": "sepal_mean", "title": "Mean sepal length", "variable": "Sepal_Length",
             "statistic": "mean", "by": ["Species"]},
            {"id": "long_share", "title": "Flowers with a long sepal", "variable": "long_sepal",
             "statistic": "proportion"},
        ],
        "models": [
            {"id": "long_logit", "title": "A long sepal (logistic)", "family": "binomial",
             "formula": "long_sepal ~ Sepal_Width + Petal_Length", "event": 1},
        ],
    },
    "iris_stata": {
        "design": "none",
        "estimates": [
            {"id": "petal_mean", "title": "Mean petal length", "variable": "petallength",
             "statistic": "mean", "by": ["species"]},
        ],
        "models": [
            {"id": "virginica_logit", "title": "Virginica rather than versicolor (logistic)",
             "formula": "species ~ sepallength + sepalwidth", "family": "binomial",
             "event": "virginica", "domain": {"species": ["versicolor", "virginica"]}},
        ],
    },
}  # fmt: skip
ORACLE = """
des <- svydesign(ids = ~1, data = iris)
iris$long <- as.numeric(iris$Sepal.Length > 5.8)
dlong <- svydesign(ids = ~1, data = iris)
two <- subset(des, Species != "setosa")
sepal <- svymean(~Sepal.Length, des)
sepal_by <- svyby(~Sepal.Length, ~Species, des, svymean)
petal <- svymean(~Petal.Length, des)
petal_by <- svyby(~Petal.Length, ~Species, des, svymean)
long <- svymean(~long, dlong)
long_fit <- svyglm(long ~ Sepal.Width + Petal.Length, dlong, family = quasibinomial())
virginica_fit <- svyglm(I(Species == "virginica") ~ Sepal.Length + Sepal.Width, two,
                        family = quasibinomial())
pair <- function(x) list(estimate = I(as.numeric(coef(x))), se = I(as.numeric(SE(x))))
emit(list(
  species = levels(iris$Species),
  sepal = pair(sepal), sepal_by = pair(sepal_by), petal = pair(petal),
  petal_by = pair(petal_by), long = pair(long),
  long_fit = pair(long_fit), virginica_fit = pair(virginica_fit)
))
"""

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(not snakemake_executable().is_file(), reason="snakemake not installed"),
]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wps(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args], cwd=root, capture_output=True, text=True
    )


def decide(codebook_path: Path, dataset: str) -> None:
    """What the user decides after the draft: nothing here identifies a flower or a row, and the
    time-of-day column of the missing-codes file is not needed (left out of the codebook)."""
    codebook = json.loads(codebook_path.read_text(encoding="utf-8"))
    for field in codebook["fields"]:
        if field.get("x-identifier") == "review":
            field["x-identifier"] = "none"
            field.pop("x-identifier-reason", None)
    if dataset == DROPPED_BY_USER[0]:
        codebook["fields"] = [f for f in codebook["fields"] if f["name"] != DROPPED_BY_USER[1]]
    codebook_path.write_text(json.dumps(codebook, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not all((FORMATS / source).is_file() for source, _ in FILES.values()):
        pytest.skip(f"reference data {FORMATS} is absent (../shared/reference-data not found)")
    root = copy_project(tmp_path_factory.mktemp("own-formats") / "project")
    for dataset, (source, name) in FILES.items():
        folder = root / "data" / "raw" / dataset
        folder.mkdir()
        shutil.copyfile(FORMATS / source, folder / name)
        draft = wps(root, "codebook", "draft", str(folder / name), "--dataset", dataset)
        assert draft.returncode == 0, draft.stderr
        decide(folder / "codebook.json", dataset)
        check = wps(root, "codebook", "check", str(folder / "codebook.json"))
        assert check.returncode == 0, check.stdout + check.stderr
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["datasets"].update({dataset: {"kind": "survey"} for dataset in FILES})
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    plan_path = root / config["plan"]
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    plan["datasets"].update(PLAN)
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    raw = {dataset: root / "data" / "raw" / dataset / name for dataset, (_, name) in FILES.items()}
    original = {dataset: sha(FORMATS / source) for dataset, (source, _) in FILES.items()}
    targets = [
        f"results/briefs/survey/{dataset}/fisher/{dataset}.{fmt}"
        for dataset in BRIEFED
        for fmt in ("html", "pdf", "docx")
    ] + ["results/clean/missing_codes/sample.parquet"]
    done = run_snakemake(root, *targets, cores=2)
    # neither the draft nor the run changed a byte of the files as published
    assert {dataset: sha(path) for dataset, path in raw.items()} == original, "a raw file changed"
    return root, done.stdout + "\n" + done.stderr


@pytest.fixture(scope="module")
def oracle() -> dict:
    return run_r(ORACLE)


def test_cleaned_tables_keep_the_files_labels_and_names(study):
    root, _ = study
    iris = pd.read_parquet(root / "results/clean/iris_spss/fisher.parquet")
    assert list(iris.columns[:4]) == ["Sepal_Length", "Sepal_Width", "Petal_Length", "Petal_Width"]
    assert iris["Species_label"].value_counts().to_dict() == {
        "setosa": 50,
        "versicolor": 50,
        "virginica": 50,
    }
    stata = pd.read_parquet(root / "results/clean/iris_stata/fisher.parquet")
    assert stata["species"].value_counts().to_dict() == {
        "setosa": 50,
        "versicolor": 50,
        "virginica": 50,
    }
    cleaned = json.loads(
        (root / "results/clean/iris_stata/fisher.codebook.json").read_text(encoding="utf-8")
    )
    titles = {f["name"]: f.get("title") for f in cleaned["fields"]}  # Stata's variable labels
    assert titles["sepallength"] == "Sepal.Length" and titles["species"] == "Species"
    drafted = json.loads((root / "data/raw/iris_spss/codebook.json").read_text(encoding="utf-8"))
    assert {f["name"]: f.get("x-source-name") for f in drafted["fields"]}["Sepal_Length"] == (
        "Sepal.Length"
    )


def test_user_missing_codes_keep_their_reason_beside_the_value(study):
    root, _ = study
    clean = pd.read_parquet(root / "results/clean/missing_codes/sample.parquet")
    assert DROPPED_BY_USER[1] not in clean.columns
    assert clean["mylabl_label"].iloc[:5].tolist() == ["Male", "Female", "Male", "Female", "Male"]
    # row 6: mylabl -1 'undetermined', myord -1 'missing', mynum -1 (no label: the code itself)
    assert pd.isna(clean.loc[5, "mylabl"]) and clean.loc[5, "mylabl__missing"] == "undetermined"
    assert pd.isna(clean.loc[5, "myord"]) and clean.loc[5, "myord__missing"] == "missing"
    assert pd.isna(clean.loc[5, "mynum"]) and clean.loc[5, "mynum__missing"] == "-1"
    # row 7: mynum 2500 lies in the range 2000 thru 3000; myord -3 is a user-missing code
    assert pd.isna(clean.loc[6, "mynum"]) and "2000 thru 3000" in clean.loc[6, "mynum__missing"]
    assert pd.isna(clean.loc[6, "myord"]) and clean.loc[6, "myord__missing"] == "-3"
    # a system-missing value has no reason: it was never answered with a code
    assert pd.isna(clean.loc[6, "mylabl"]) and pd.isna(clean.loc[6, "mylabl__missing"])
    assert clean["mynum"].iloc[:5].tolist() == pytest.approx([1.1, 1.2, -1000.3, -1.4, 1000.3])


def test_the_console_says_which_column_was_left_out(study):
    _, console = study
    dataset, column = DROPPED_BY_USER
    lines = [line for line in console.splitlines() if "left out" in line and dataset in line]
    assert lines and column in lines[0], console[-3000:]
    assert "has no entry in the analysis plan" in console


def _estimates(root: Path, dataset: str, estimate_id: str) -> pd.DataFrame:
    table = pd.read_parquet(root / f"results/tables/{dataset}/fisher/estimates.parquet")
    return table[table["estimate_id"] == estimate_id]


@requires_r
@pytest.mark.parametrize(
    ("dataset", "estimate_id", "key", "group"),
    [
        ("iris_spss", "sepal_mean", "sepal", "Species"),
        ("iris_stata", "petal_mean", "petal", "species"),
    ],
)
def test_means_equal_r_survey(study, oracle, dataset, estimate_id, key, group):
    rows = _estimates(study[0], dataset, estimate_id)
    overall = rows[rows["group_var"] == "(overall)"].iloc[0]
    assert overall["estimate"] == pytest.approx(oracle[key]["estimate"][0], rel=1e-6)
    assert overall["se"] == pytest.approx(oracle[key]["se"][0], rel=1e-6)
    by = rows[rows["group_var"] == group]
    labels = (
        by["group_value"].map({"1": "setosa", "2": "versicolor", "3": "virginica"})
        if dataset == "iris_spss"
        else by["group_value"]
    )
    assert labels.tolist() == oracle["species"]
    assert by["estimate"].tolist() == pytest.approx(oracle[f"{key}_by"]["estimate"], rel=1e-6)
    assert by["se"].tolist() == pytest.approx(oracle[f"{key}_by"]["se"], rel=1e-6)


@requires_r
def test_derived_share_equals_r_survey(study, oracle):
    rows = _estimates(study[0], "iris_spss", "long_share")
    long = rows[rows["level"].astype(str) == "1"].iloc[0]
    assert long["estimate"] == pytest.approx(oracle["long"]["estimate"][0], rel=1e-6)
    assert long["se"] == pytest.approx(oracle["long"]["se"][0], rel=1e-6)


@requires_r
@pytest.mark.parametrize(
    ("dataset", "model_id", "key", "modelled"),
    [
        ("iris_spss", "long_logit", "long_fit", "P(long_sepal = 1)"),
        ("iris_stata", "virginica_logit", "virginica_fit", "P(species = virginica)"),
    ],
)
def test_models_count_the_declared_event_and_equal_r_survey(
    study, oracle, dataset, model_id, key, modelled
):
    folder = study[0] / f"results/models/{dataset}/fisher"
    card = json.loads((folder / f"{model_id}.card.json").read_text(encoding="utf-8"))
    assert card["modelled"] == modelled
    terms = pd.read_parquet(folder / f"{model_id}.parquet")
    assert terms["estimate"].tolist() == pytest.approx(oracle[key]["estimate"], rel=1e-5)
    assert terms["se"].tolist() == pytest.approx(oracle[key]["se"], rel=1e-5)


@pytest.mark.parametrize("dataset", BRIEFED)
def test_each_dataset_has_its_brief_in_every_format(study, dataset):
    folder = study[0] / "results" / "briefs" / "survey" / dataset / "fisher"
    for fmt in ("html", "pdf", "docx"):
        assert (folder / f"{dataset}.{fmt}").stat().st_size > 1000
    html = (folder / f"{dataset}.html").read_text(encoding="utf-8")
    for species in ("setosa", "versicolor", "virginica"):  # the file's labels, not its codes
        assert f": {species}" in html
    assert PLAN[dataset]["models"][0]["title"] in html
    assert "unweighted" in html  # data with no design are not called weighted
    assert "11 June 2016" in html  # no date column: the day after haven wrote the file


def test_model_terms_print_as_the_codebook_names_them(study):
    html = (study[0] / "results/briefs/survey/iris_spss/fisher/iris_spss.html").read_text("utf-8")
    assert "Sepal_Width" in html and "Sepal\\_Width" not in html
