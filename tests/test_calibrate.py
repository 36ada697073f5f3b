"""Calibration checked against R ``survey`` (``postStratify``, ``rake``, ``calibrate``).

API data (the CSVs of R's ``data(api)``, read by both sides): the one-stage cluster sample
(with fpc) and the stratified sample, post-stratified to the population counts of school
type, raked to school type and ``sch.wide``, and linearly calibrated to school type and the
total of ``api99`` (``calibrate(design, ~stype + api99, totals)``), as Taylor designs (R's
calibrated linearisation) and as JK1/JKn replicate designs (every replicate calibrated).
Population counts are R's documented ones (``pop.types``, ``pop.schwide``: counts in
``apipop``). Estimates, SEs, intervals to 4 significant digits, df exactly; overall and in
domains.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from r_oracle import requires_r, run_r
from test_replicate import R_FUNCTIONS, _compare, _ours

from analysis.survey.calibrate import (
    NumericTotal,
    calibrate_from_plan,
    calibrate_linear,
    margin,
    margins_from_table,
    poststratify,
    rake,
)
from analysis.survey.design import DesignError, SurveyDesign, svy_mean, svy_proportion, svy_total
from analysis.survey.replicate import as_replicate

API = Path("/work/shared/reference-data/api")
TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHWIDE = {"No": 1072, "Yes": 5122}
pytestmark = pytest.mark.skipif(
    not (API / "apiclus1.csv").exists(), reason=f"API reference data absent from {API}"
)
TAYLOR = (svy_mean, svy_total, svy_proportion)
STATS = {
    "yvars": ["api00", "acs.k3"],
    "tvar": "enroll",
    "props": [{"var": "sch.wide", "level": "Yes"}, {"var": "sch.wide", "level": "No"}],
}
DESIGNS = {
    # name: (csv, R svydesign arguments, Python arguments, replicate type, domain column)
    "clus1": ("apiclus1", "id = ~dnum, fpc = ~fpc", {"psu": "dnum", "fpc": "fpc"}, "JK1", "awards"),
    "strat": (
        "apistrat",
        "id = ~1, strata = ~stype, fpc = ~fpc",
        {"strata": "stype", "fpc": "fpc"},
        "JKn",
        "awards",
    ),
}


def _r_block(name: str) -> str:
    csv, args, _, rtype, dom = DESIGNS[name]
    est = (
        f'estimates(x, "{dom}", sort(unique(d${dom})), c("api00", "acs.k3"), "enroll", '
        'list(list(var = "sch.wide", level = "Yes"), list(var = "sch.wide", level = "No")))'
    )
    return f"""{name} = local({{
  d <- read.csv("{API / (csv + ".csv")}", stringsAsFactors = FALSE)
  des <- svydesign({args}, weights = ~pw, data = d)
  types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
  schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
  rep <- as.svrepdesign(des, type = "{rtype}")
  api99 <- sum(read.csv("{API / "apipop.csv"}")$api99, na.rm = TRUE)
  lin_totals <- c("(Intercept)" = 6194, stypeH = 755, stypeM = 1018, api99 = api99)
  one <- function(x) {est}
  list(ps = one(postStratify(des, ~stype, types)),
       rake = one(rake(des, list(~stype, ~sch.wide), list(types, schwide))),
       rep_ps = one(postStratify(rep, ~stype, types)),
       rep_rake = one(rake(rep, list(~stype, ~sch.wide), list(types, schwide))),
       lin = one(calibrate(des, ~stype + api99, lin_totals)),
       rep_lin = one(calibrate(rep, ~stype + api99, lin_totals)))
}})"""


@pytest.fixture(scope="module")
def r_results():
    if not (API / "apiclus1.csv").exists():
        pytest.skip(f"API reference data absent from {API}")
    return run_r(R_FUNCTIONS + "emit(list(" + ",\n".join(map(_r_block, DESIGNS)) + "))")


def _design(name: str) -> SurveyDesign:
    csv, _, args, _, _ = DESIGNS[name]
    return SurveyDesign(pd.read_csv(API / f"{csv}.csv"), "pw", lonely_psu="fail", **args)


@requires_r
@pytest.mark.parametrize("name", list(DESIGNS))
@pytest.mark.parametrize("kind", ["ps", "rake", "lin", "rep_ps", "rep_rake", "rep_lin"])
def test_calibrated_estimates_match_r(r_results, name, kind):
    base = _design(name)
    funcs = TAYLOR
    if kind.startswith("rep_"):
        base, funcs = as_replicate(base, DESIGNS[name][3]), None
    if kind.endswith("ps"):
        design = poststratify(base, margin("stype", TYPES))
    elif kind.endswith("lin"):
        api99 = pd.read_csv(API / "apipop.csv")["api99"].sum()
        design = calibrate_linear(base, [margin("stype", TYPES), NumericTotal("api99", api99)])
    else:
        design = rake(base, [margin("stype", TYPES), margin("sch.wide", SCHWIDE)])
    ours = _ours(design, DESIGNS[name][4], funcs=funcs, **STATS)
    _compare(f"{name} {kind}", ours, pd.DataFrame(r_results[name][kind]))


def test_poststratified_weights_hit_the_totals():
    design = poststratify(_design("clus1"), margin("stype", TYPES))
    sums = pd.Series(design.weights).groupby(design.data["stype"]).sum()
    assert sums.to_dict() == pytest.approx({k: float(v) for k, v in TYPES.items()})


def test_raked_weights_hit_both_margins():
    design = rake(_design("strat"), [margin("stype", TYPES), margin("sch.wide", SCHWIDE)])
    for col, totals in (("stype", TYPES), ("sch.wide", SCHWIDE)):
        sums = pd.Series(design.weights).groupby(design.data[col]).sum()
        # R's default stops once the joint table moves by less than 1 (weight unit)
        assert np.allclose(sums.reindex(list(totals)).to_numpy(), list(totals.values()), atol=5)


def test_sample_cell_without_count_is_refused_with_rows():
    with pytest.raises(DesignError, match=r"sample cell\(s\) \['M'\] have no population count"):
        poststratify(_design("clus1"), margin("stype", {"E": 4421, "H": 755}))


def test_counted_cell_without_sample_is_refused():
    data = pd.read_csv(API / "apiclus1.csv")
    design = SurveyDesign(data[data["stype"] != "H"], "pw", psu="dnum", lonely_psu="fail")
    with pytest.raises(DesignError, match=r"cell\(s\) \['H'\] have a population count"):
        poststratify(design, margin("stype", TYPES))


def test_totals_from_a_csv_and_a_plan_block(tmp_path):
    path = tmp_path / "headcounts.csv"
    pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]}).to_csv(path)
    assert margins_from_table(path, ["stype"]).totals == {"E": 4421, "H": 755, "M": 1018}
    spec = {"method": "poststratify", "margins": [{"variable": "stype", "file": path.name}]}
    from_file = calibrate_from_plan(_design("clus1"), spec, base_dir=tmp_path)
    inline = poststratify(_design("clus1"), margin("stype", TYPES))
    assert np.allclose(from_file.weights, inline.weights)


def test_missing_margin_value_names_rows():
    data = pd.read_csv(API / "apiclus1.csv")
    data.loc[[3, 7], "stype"] = None
    design = SurveyDesign(data, "pw", psu="dnum", lonely_psu="fail")
    with pytest.raises(DesignError, match="missing in rows"):
        poststratify(design, margin("stype", TYPES))


def test_linear_calibration_hits_counts_and_numeric_total():
    api99 = float(pd.read_csv(API / "apipop.csv")["api99"].sum())
    design = calibrate_linear(
        _design("clus1"), [margin("stype", TYPES), NumericTotal("api99", api99)]
    )
    sums = pd.Series(design.weights).groupby(design.data["stype"]).sum()
    assert sums.to_dict() == pytest.approx({k: float(v) for k, v in TYPES.items()})
    assert float(design.weights @ design.data["api99"]) == pytest.approx(api99)


def test_plan_block_linear_calibration_matches_the_function():
    from analysis.config.plan import validate_plan

    api99 = float(pd.read_csv(API / "apipop.csv")["api99"].sum())
    block = {
        "method": "linear",
        "margins": [
            {"variable": "stype", "totals": TYPES},
            {"variable": "api99", "total": api99},
        ],
    }
    plan = {"weight": "pw", "psu": "dnum", "lonely_psu": "fail", "calibration": block}
    entry = validate_plan({"datasets": {"api": {"design": plan}}})["api"]
    via_plan = calibrate_from_plan(_design("clus1"), entry["design"]["calibration"])
    direct = calibrate_linear(
        _design("clus1"), [margin("stype", TYPES), NumericTotal("api99", api99)]
    )
    assert np.allclose(via_plan.weights, direct.weights)


# --- random designs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    seed: int
    n_strata: int
    psus: int
    fpc: bool


METHODS = ("poststratify", "rake", "linear")


@st.composite
def specs(draw) -> Spec:
    return Spec(
        seed=draw(st.integers(0, 2**31 - 1)),
        n_strata=draw(st.integers(2, 4)),
        psus=draw(st.integers(2, 5)),
        fpc=draw(st.booleans()),
    )


def _random_data(spec: Spec) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    rows = []
    for h in range(spec.n_strata):
        for j in range(spec.psus):
            for _ in range(int(rng.integers(2, 6))):
                rows.append(
                    {
                        "h": f"H{h}",
                        "psu": f"P{h}_{j}",
                        "N": spec.psus + 4,
                        "w": float(rng.uniform(1, 6)),
                        "y": float(rng.normal(10 + h, 3)),
                        "x": float(rng.uniform(0, 10)),
                        "cat": str(rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2])),
                        "sex": str(rng.choice(["F", "M"], p=[0.3, 0.7])),
                        "dom": str(rng.choice(["d1", "d2"], p=[0.6, 0.4])),
                    }
                )
    return pd.DataFrame(rows)


def _totals(spec: Spec, df: pd.DataFrame) -> dict:
    """Population counts a little off the sample's weighted counts (so calibration moves)."""
    rng = np.random.default_rng(spec.seed + 1)
    cat = df.groupby("cat")["w"].sum() * rng.uniform(0.8, 1.25, 3)
    cat = cat.round()
    sex = df.groupby("sex")["w"].sum()
    sex = (sex / sex.sum() * cat.sum() * [1.1, 1.0]).round()
    sex.iloc[-1] = cat.sum() - sex.iloc[0]  # both margins add up to the same population
    x_total = float(round((df["w"] * df["x"]).sum() * rng.uniform(0.9, 1.1), 1))
    return {"cat": cat.to_dict(), "sex": sex.to_dict(), "x": x_total}


def _r_vector(d: dict) -> str:
    return ", ".join(f"{v!r}" for v in d.values())


def _r_random(spec: Spec, method: str, replicate: bool, path: Path, totals: dict) -> str:
    fpc = ", fpc = ~N" if spec.fpc else ""
    cat, sex = totals["cat"], totals["sex"]
    cat_df = f"data.frame(cat = c({', '.join(repr(k) for k in cat)}), Freq = c({_r_vector(cat)}))"
    sex_df = f"data.frame(sex = c({', '.join(repr(k) for k in sex)}), Freq = c({_r_vector(sex)}))"
    lin = (
        f'c("(Intercept)" = {sum(cat.values())!r}, catb = {cat["b"]!r}, catc = {cat["c"]!r}, '
        f"x = {totals['x']!r})"
    )
    calibrated = {
        "poststratify": f"postStratify(des, ~cat, {cat_df})",
        "rake": f"suppressWarnings(rake(des, list(~cat, ~sex), list({cat_df}, {sex_df})))",
        "linear": f"calibrate(des, ~cat + x, {lin})",
    }[method]
    rep = 'des <- as.svrepdesign(des, type = "JKn")' if replicate else ""
    return f"""local({{
  d <- read.csv("{path}", stringsAsFactors = FALSE)
  des <- svydesign(id = ~psu, strata = ~h{fpc}, weights = ~w, data = d)
  {rep}
  tryCatch(estimates({calibrated}, "dom", sort(unique(d$dom)), "y", "y",
                     list(list(var = "sex", level = "F"), list(var = "sex", level = "M"))),
           error = function(e) conditionMessage(e))
}})"""


def _py_random(spec: Spec, method: str, replicate: bool, df: pd.DataFrame, totals: dict):
    design = SurveyDesign(
        df, "w", strata="h", psu="psu", fpc="N" if spec.fpc else None, lonely_psu="fail"
    )
    if replicate:
        design = as_replicate(design, "JKn")
    cat = margin("cat", totals["cat"])
    if method == "poststratify":
        return poststratify(design, cat)
    if method == "rake":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # R's rake warns alike when it stops at maxit
            return rake(design, [cat, margin("sex", totals["sex"])])
    return calibrate_linear(design, [cat, NumericTotal("x", totals["x"])])


@requires_r
@settings(
    max_examples=2,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every try is an Rscript run
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(specs(), min_size=4, max_size=4))
def test_random_calibrated_designs_match_r(batch):
    """Every design of the batch calibrated by every method, as Taylor and JKn designs."""
    cases = [(spec, m, rep) for spec in batch for m in METHODS for rep in (False, True)]
    with tempfile.TemporaryDirectory(prefix="calibrate-oracle-") as tmp:
        data, calls = {}, []
        for i, spec in enumerate(batch):
            df = _random_data(spec)
            path = Path(tmp) / f"d{i}.csv"
            df.to_csv(path, index=False)
            data[spec] = (df, _totals(spec, df))
        for spec, method, rep in cases:
            path = Path(tmp) / f"d{batch.index(spec)}.csv"
            calls.append(_r_random(spec, method, rep, path, data[spec][1]))
        results = run_r(R_FUNCTIONS + "emit(list(" + ",\n".join(calls) + "))")
    stats = {"yvars": ["y"], "tvar": "y", "props": [{"var": "sex"}]}
    for (spec, method, rep), theirs in zip(cases, results, strict=True):
        df, totals = data[spec]
        if isinstance(theirs, str):  # e.g. a replicate without a cell: R fails, so must we
            with pytest.raises(DesignError, match="no weight in replicate"):
                _py_random(spec, method, rep, df, totals)
            continue
        design = _py_random(spec, method, rep, df, totals)
        ours = _ours(design, "dom", funcs=None if rep else TAYLOR, **stats)
        theirs = pd.DataFrame(theirs)
        if rep and (design.replicate_weights < 0).any():
            # Linear calibration can make replicate weights negative. R's svyciprop fits
            # svyglm per replicate, and glm.fit drops rows with weights <= 0 (checked: zeroing
            # them here gives R's limits), while svymean uses them; we use them throughout, so
            # only the proportion intervals differ: compare their estimate and SE only.
            for frame in (ours, theirs):
                frame.loc[frame["stat"] == "proportion", ["ci_low", "ci_high"]] = np.nan
        _compare(f"{spec} {method} replicate={rep}", ours, theirs)


@requires_r
def test_models_on_calibrated_designs_match_r_svyglm():
    """svy_glm takes a calibrated design as it is (its variance residualises the scores)."""
    from analysis.survey.models import svy_glm

    theirs = run_r(
        f"""
d <- read.csv("{API / "apiclus1.csv"}")
des <- svydesign(id = ~dnum, fpc = ~fpc, weights = ~pw, data = d)
types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
fit <- function(x) {{
  s <- summary(svyglm(api00 ~ ell + meals, x))$coef
  list(estimate = unname(s[, 1]), se = unname(s[, 2]))
}}
emit(list(ps = fit(postStratify(des, ~stype, types)),
          rake = fit(rake(des, list(~stype, ~sch.wide), list(types, schwide)))))
"""
    )
    base = _design("clus1")
    designs = {
        "ps": poststratify(base, margin("stype", TYPES)),
        "rake": rake(base, [margin("stype", TYPES), margin("sch.wide", SCHWIDE)]),
    }
    for kind, design in designs.items():
        terms, _ = svy_glm("api00 ~ ell + meals", design, family="gaussian")
        assert np.allclose(terms["estimate"], theirs[kind]["estimate"], rtol=5e-5), kind
        assert np.allclose(terms["se"], theirs[kind]["se"], rtol=5e-5), kind
