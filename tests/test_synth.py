"""The seeded synthetic-data generator: determinism, counts, anchors, codebooks, true effects."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from analysis.synth import generate_all, interviews, officer_survey, training
from analysis.synth.common import (
    FIXED_TIMESTAMP,
    fix_dta_timestamp,
    fix_sav_timestamp,
    read_sha256sums,
    sha256,
)

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "raw"
WAVE_FILES = ("officer_survey/2023.sav", "officer_survey/2025.sav", "training/2024.dta")
ALL_FILES = (*WAVE_FILES, "interviews/2024.xlsx")
NOT_GENERATED = ("results_framework/",)  # bundled, but not synthetic


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    generate_all(root)
    return root


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".sav":
        return pyreadstat.read_sav(path, user_missing=True)[0]
    if path.suffix == ".dta":
        return pyreadstat.read_dta(path, user_missing=True)[0]
    return pd.read_excel(path)


def _survey(out: Path, wave: int) -> tuple[pd.DataFrame, object]:
    return pyreadstat.read_sav(out / f"officer_survey/{wave}.sav", user_missing=True)


# --- determinism ------------------------------------------------------------------------------


def test_regeneration_reads_back_identical(out: Path, tmp_path: Path) -> None:
    generate_all(tmp_path)
    for rel in ALL_FILES:
        pd.testing.assert_frame_equal(_read(out / rel), _read(tmp_path / rel), obj=rel)
    assert (out / "SHA256SUMS").read_text() == (tmp_path / "SHA256SUMS").read_text()
    assert (out / "README.md").read_text() == (tmp_path / "README.md").read_text()


def test_regeneration_matches_committed_files(out: Path) -> None:
    if not (COMMITTED / "SHA256SUMS").is_file():
        pytest.skip(f"no committed {COMMITTED / 'SHA256SUMS'}: run `make example-data`")
    committed = read_sha256sums(COMMITTED / "SHA256SUMS")
    # results_framework/ holds published figures written by hand, not by the generator
    committed = {rel: d for rel, d in committed.items() if not rel.startswith(NOT_GENERATED)}
    fresh = read_sha256sums(out / "SHA256SUMS")
    assert sorted(committed) == sorted(fresh)
    for rel in ALL_FILES:
        pd.testing.assert_frame_equal(_read(out / rel), _read(COMMITTED / rel), obj=rel)
    for rel in fresh:  # byte-identical, .sav/.dta/.xlsx included (timestamps fixed)
        assert fresh[rel] == committed[rel], f"{rel} differs from data/raw/SHA256SUMS"
        assert sha256(COMMITTED / rel) == committed[rel], f"data/raw/{rel} fails its checksum"


def test_sha256sums_cover_every_file_but_itself_and_readme(out: Path) -> None:
    listed = read_sha256sums(out / "SHA256SUMS")
    on_disk = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", "README.md")
    }
    assert set(listed) == on_disk
    lines = (out / "SHA256SUMS").read_text().splitlines()
    assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
    assert all(sha256(out / rel) == digest for rel, digest in listed.items())


def test_file_headers_carry_the_fixed_time_not_the_clock(out: Path) -> None:
    _, meta = _survey(out, 2023)
    assert meta.creation_time == FIXED_TIMESTAMP
    _, meta = pyreadstat.read_dta(out / "training/2024.dta", metadataonly=True)
    assert meta.creation_time == FIXED_TIMESTAMP
    with zipfile.ZipFile(out / "interviews/2024.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {FIXED_TIMESTAMP.timetuple()[:6]}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2025-01-01T00:00:00Z") == 2


def test_timestamp_fixers_refuse_other_files(tmp_path: Path) -> None:
    bogus = tmp_path / "x.sav"
    bogus.write_bytes(b"not a system file" * 20)
    with pytest.raises(ValueError, match="not an SPSS system file"):
        fix_sav_timestamp(bogus)
    with pytest.raises(ValueError, match="no <timestamp>"):
        fix_dta_timestamp(bogus)


# --- officer survey -----------------------------------------------------------------------------


def test_survey_design_columns(out: Path) -> None:
    for wave in officer_survey.WAVES:
        df, _ = _survey(out, wave)
        assert 2700 <= len(df) <= 3300
        assert df["respondent_id"].is_unique
        assert df["stratum"].nunique() == 24
        assert set(df["stratum"]) == {c * 10 + a for c in range(1, 9) for a in (1, 2, 3)}
        assert (df["stratum"] == df["country"] * 10 + df["agency"]).all()
        per_station = df.groupby("station_id").size()
        assert per_station.between(10, 20).all()
        assert df.groupby("station_id")["stratum"].nunique().eq(1).all()
        assert (df.groupby("stratum")["station_id"].nunique() >= 3).all()
        assert (df["weight"] >= 1).all()
        # weights are inverse inclusion probabilities: they add up to the population size
        pop = officer_survey.population()
        assert df["weight"].sum() == pytest.approx(pop["station_size"].sum(), rel=0.15)


@pytest.mark.parametrize("wave", officer_survey.WAVES)
def test_weighted_women_share_matches_anchors(out: Path, wave: int) -> None:
    df, _ = _survey(out, wave)
    valid = df[df["sex"].isin([1, 2])]
    for country, share in officer_survey.WOMEN_SHARE.items():
        g = valid[valid["country"] == country]
        got = np.average(g["sex"] == 2, weights=g["weight"])
        assert got == pytest.approx(share, abs=0.03), f"country {country}"
    for anchored, share in ((2, 0.06), (3, 0.20), (4, 0.12), (6, 0.22)):
        assert officer_survey.WOMEN_SHARE[anchored] == share


def test_user_missing_declared_in_sav_and_used_sparingly(out: Path) -> None:
    df, meta = _survey(out, 2025)
    for f in officer_survey.FIELDS:
        codes = [v for v, _ in f.missing]
        if not codes:
            assert f.name not in meta.missing_ranges
            continue
        declared = sorted(r["lo"] for r in meta.missing_ranges[f.name])
        assert declared == codes, f.name
        assert all(meta.variable_value_labels[f.name][c] for c in codes)
        share = df[f.name].isin(codes).mean()
        assert 0.003 <= share <= 0.06, f"{f.name}: {share:.3f} user-missing"
        valid = df.loc[~df[f.name].isin(codes), f.name]
        assert (valid < 98).all(), f"{f.name}: a valid value reaches 98"
    assert meta.variable_value_labels["country"][5] == "Myanmar"
    assert meta.column_names_to_labels["harassment"].startswith("Experienced sexual harassment")


def test_direct_identifiers_look_real_and_comments_are_mostly_empty(out: Path) -> None:
    df, _ = _survey(out, 2023)
    assert df["name"].str.len().gt(3).all()
    cambodia = df.loc[(df["country"] == 1) & (df["phone"] != ""), "phone"]
    assert cambodia.str.match(r"^\+855 \d{2} \d{3} \d{3}$").all()
    indonesia = df.loc[(df["country"] == 2) & (df["phone"] != ""), "phone"]
    assert indonesia.str.match(r"^\+62 8\d{2}-\d{4}-\d{4}$").all()
    filled = df["comment"] != ""
    assert 0.05 < filled.mean() < 0.2
    assert df.loc[filled, "comment"].str.contains("village").any()


def _fit_data(df: pd.DataFrame) -> pd.DataFrame:
    d = df.copy()
    for col, rates in officer_survey.MISSING_RATES.items():
        d[col] = d[col].where(~d[col].isin(list(rates)))
    d["women"] = (d["sex"] == 2).astype(float).where(d["sex"].notna())
    items = list(officer_survey.LIKERT_ITEMS)
    d["attitude_index"] = d[items].mean(axis=1).where(d[items].notna().sum(axis=1) >= 3)
    return d


def _cluster(d: pd.DataFrame) -> dict:
    return {"cov_type": "cluster", "cov_kwds": {"groups": d["station_id"].to_numpy()}}


@pytest.mark.parametrize("wave", officer_survey.WAVES)
def test_survey_models_recover_true_effects(out: Path, wave: int) -> None:
    """Weighted fits with station-clustered CIs (a design-based stand-in) cover the truth."""
    d = _fit_data(_survey(out, wave)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = d.dropna(subset=["intend_stay_5y", "harassment", "training_gender", "women"])
        fit = smf.glm(
            "intend_stay_5y ~ harassment + training_gender + women",
            s,
            family=sm.families.Binomial(),
            var_weights=s["weight"] / s["weight"].mean(),
        ).fit(**_cluster(s))
        ci = np.exp(fit.conf_int())
        for term, truth in officer_survey.TRUE_INTEND_STAY_OR.items():
            assert ci.loc[term, 0] <= truth <= ci.loc[term, 1], (term, ci.loc[term].tolist())

        s = d.dropna(subset=["attitude_index", "women", "training_gender", "years_service"])
        fit = smf.wls(
            "attitude_index ~ women + training_gender + years_service", s, weights=s["weight"]
        ).fit(**_cluster(s))
        ci = fit.conf_int()
        for term in ("women", "training_gender", "years_service"):
            truth = officer_survey.TRUE_ATTITUDE[term]
            assert ci.loc[term, 0] <= truth <= ci.loc[term, 1], (term, ci.loc[term].tolist())
        assert fit.pvalues["years_service"] > 0.05  # the deliberate null

        s = d.dropna(subset=["cases_trafficking_12m"])
        fit = smf.glm(
            "cases_trafficking_12m ~ border_posting",
            s,
            family=sm.families.Poisson(),
            var_weights=s["weight"] / s["weight"].mean(),
        ).fit(**_cluster(s))
        lo, hi = np.exp(fit.conf_int().loc["border_posting"])
        assert lo <= officer_survey.TRUE_CASES_TRAFFICKING["border_posting"] <= hi

    h = d.dropna(subset=["harassment", "women"])
    for women, key in ((1.0, "women"), (0.0, "men")):
        g = h[h["women"] == women]
        assert np.average(g["harassment"], weights=g["weight"]) == pytest.approx(
            officer_survey.TRUE_HARASSMENT[key], abs=0.05
        )
    t = d.dropna(subset=["training_gender"])
    coverage = np.average(t["training_gender"], weights=t["weight"])
    assert coverage == pytest.approx(officer_survey.TRUE_TRAINING_COVERAGE[wave], abs=0.06)


# --- training -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def train(out: Path) -> pd.DataFrame:
    return pyreadstat.read_dta(out / "training/2024.dta", user_missing=True)[0]


def test_training_counts(train: pd.DataFrame) -> None:
    assert len(train) == 555
    officers = train.drop_duplicates("officer_id")
    assert len(officers) == 185
    assert (officers["sex"] == 2).sum() == 63
    assert set(officers["country"]) == {1, 3, 7}
    assert officers.groupby("cohort").size().between(15, 30).all()
    assert officers.groupby("cohort")["country"].nunique().eq(1).all()
    assert set(train["module"]) == {1, 2, 3}
    assert not train.duplicated(["officer_id", "module"]).any()


def test_training_post_missing_and_scores(out: Path, train: pd.DataFrame) -> None:
    post_items = [f"post_q{j:02d}" for j in range(1, 21)]
    pre_items = [f"pre_q{j:02d}" for j in range(1, 21)]
    missing = train["post_missing_reason"] > 0
    assert 0.05 <= missing.mean() <= 0.12
    assert set(train.loc[missing, "post_missing_reason"]) == {1, 2, 3}
    assert (train.loc[missing, [*post_items, "post_score"]] == "a").all().all()
    assert not (train.loc[~missing, post_items] == "a").any().any()
    assert (train["pre_score"] == train[pre_items].sum(axis=1)).all()
    took = train.loc[~missing]
    assert (took["post_score"].astype(int) == took[post_items].astype(int).sum(axis=1)).all()
    _, meta = pyreadstat.read_dta(out / "training/2024.dta", user_missing=True)
    assert meta.missing_user_values["post_score"] == ["a"]
    assert meta.variable_value_labels["module"][2] == "Gender-informed investigation"
    plain = pyreadstat.read_dta(out / "training/2024.dta")[0]
    assert plain.loc[missing.to_numpy(), "post_q01"].isna().all()


def test_training_recovers_gains_and_null_sex_difference(train: pd.DataFrame) -> None:
    d = train[train["post_missing_reason"] == 0].copy()
    d["gain"] = d["post_score"].astype(int) - d["pre_score"]
    d["module"] = d["module"].astype(int)
    d["women"] = (d["sex"] == 2).astype(int)
    fit = smf.ols("gain ~ C(module) + women - 1", d).fit(
        cov_type="cluster", cov_kwds={"groups": d["cohort"].to_numpy()}
    )
    ci = fit.conf_int()
    for m, truth in training.TRUE_GAIN_BY_MODULE.items():
        lo, hi = ci.loc[f"C(module)[{m}]"]
        assert lo <= truth <= hi, (m, lo, hi)
    lo, hi = ci.loc["women"]
    assert lo <= training.TRUE_SEX_DIFFERENCE_IN_GAIN <= hi


# --- interviews ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coded(out: Path) -> pd.DataFrame:
    return pd.read_excel(out / "interviews/2024.xlsx", dtype={"quote_id": str}).fillna(
        {"quote": "", "quote_id": "", "village": ""}
    )


def test_interview_counts(coded: pd.DataFrame) -> None:
    people = coded.drop_duplicates("interview_id")
    survivors = people[people["respondent_type"] == "Survivor"]
    assert len(survivors) == 37
    assert (survivors["sex"] == "Man").sum() == 4
    assert set(people["country"]) == {"Cambodia", "Myanmar", "Thailand"}
    assert set(people["respondent_type"]) == set(interviews.RESPONDENTS)
    assert coded[coded["coder"] == "B"]["interview_id"].nunique() == interviews.N_DOUBLE_CODED
    assert coded[coded["coder"] == "A"].groupby("interview_id").size().min() >= 3
    assert set(coded["code"]) <= set(interviews.CODES)
    assert not coded.duplicated(["interview_id", "coder", "code"]).any()
    assert len(interviews.THEMES) == 9
    assert all(3 <= len(codes) <= 5 for codes in interviews.THEMES.values())


def test_quotes_ids_consent_and_planted_identifiers(coded: pd.DataFrame) -> None:
    has_quote = coded["quote"] != ""
    assert (has_quote == (coded["quote_id"] != "")).all()
    assert coded.loc[has_quote, "quote_id"].is_unique
    assert coded.loc[has_quote, "quote_id"].str.match(r"^Q-\d{4}$").all()
    assert set(coded["quote_consent"]) == {"yes", "no"}
    assert coded.groupby("interview_id")["quote_consent"].nunique().eq(1).all()
    kinds = set(interviews.PLANTED_IDENTIFIERS)
    assert kinds == {"name", "village", "age", "phone", "employer"}
    for kind, strings in interviews.PLANTED_IDENTIFIERS.items():
        for s in strings:
            hits = coded["quote"].str.contains(s, regex=False)
            assert hits.sum() >= 1, f"planted {kind} {s!r} not in any quote"


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    po = np.mean(a == b)
    pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")


def test_unreliable_codes_agree_less(coded: pd.DataFrame) -> None:
    ids = sorted(coded.loc[coded["coder"] == "B", "interview_id"].unique())
    applied = {(r.interview_id, r.coder, r.code) for r in coded.itertuples()}
    kappas = {}
    for code in interviews.CODES:
        a = np.array([(i, "A", code) in applied for i in ids])
        b = np.array([(i, "B", code) in applied for i in ids])
        if 0 < a.sum() < len(ids):
            kappas[code] = _kappa(a, b)
    for code in interviews.UNRELIABLE_CODES:
        assert kappas[code] < 0.4, (code, kappas[code])
    reliable = [k for c, k in kappas.items() if interviews.CODE_RELIABILITY[c] >= 0.9]
    assert np.nanmean(reliable) > 0.7


# --- codebooks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "module", "waves"),
    [
        ("officer_survey", officer_survey, ("2023.sav", "2025.sav")),
        ("training", training, ("2024.dta",)),
        ("interviews", interviews, ("2024.xlsx",)),
    ],
)
def test_codebook_matches_files(out: Path, dataset: str, module, waves) -> None:
    path = out / dataset / "codebook.json"
    text = path.read_text()
    assert text.endswith("}\n")
    book = json.loads(text)
    assert book == module.build_codebook()
    assert book["name"] == dataset
    assert book["x-synthetic"] is True
    assert "SYNTHETIC" in book["description"]
    names = [f["name"] for f in book["fields"]]
    for wave in waves:
        assert list(_read(out / dataset / wave).columns) == names, wave
    for f in book["fields"]:
        assert f["x-identifier"] in ("direct", "indirect", "none")
        assert isinstance(f["x-sensitive"], bool)
        for mv in f.get("missingValues", []):
            assert isinstance(mv["value"], str) and mv["label"]
        if "categories" in f:
            assert f["constraints"]["enum"] == [c["value"] for c in f["categories"]]
    roles = {f["x-role"] for f in book["fields"] if "x-role" in f}
    if dataset == "officer_survey":
        assert roles == {"id", "stratum", "psu", "fpc", "weight"}
    if dataset == "interviews":
        code = next(f for f in book["fields"] if f["name"] == "code")
        assert all(c["x-theme"] and c["x-definition"] for c in code["categories"])


def test_codebooks_pass_the_project_schema(out: Path) -> None:
    codebook = pytest.importorskip("analysis.validate.codebook")
    for dataset in ("officer_survey", "training", "interviews"):
        book = codebook.load_codebook(out / dataset / "codebook.json")
        assert book.fields
