"""Ratios and quantiles checked against R ``survey`` (``svyratio``, ``svyquantile``).

API data (the CSVs of R's ``data(api)``, read by both sides) as Taylor designs (one-stage
cluster and stratified samples with fpc), a post-stratified design and JK1/JKn replicate
designs; and random designs drawn with hypothesis (seeded; strata, clusters, fpc, NA, tied
integer values; one Rscript call per batch). Overall and per domain; estimates, SEs and
interval limits to 4 significant digits, df exactly. ``svyquantile`` runs with survey 4.1.1's
defaults (``qrule = "math"``, ``interval.type = "mean"``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from r_oracle import requires_r, run_r
from test_replicate import _compare

from analysis.survey.calibrate import margin, poststratify
from analysis.survey.design import DesignError, SurveyDesign
from analysis.survey.ratio_quantile import qrule_math, svy_quantile, svy_ratio
from analysis.survey.replicate import as_replicate

API = Path("/work/shared/reference-data/api")
QUANTILES = (0.1, 0.5, 0.75)

R_FUNCTIONS = r"""
ratio_quantile <- function(des, domvar, doms, num, den, qvars, probs) {
  rows <- list()
  add <- function(stat, variable, dom, level, est, se, df, lo, hi) {
    rows[[length(rows) + 1]] <<- data.frame(stat = stat, variable = variable, domain = dom,
      level = level, estimate = unname(est), se = unname(se), df = df, ci_low = unname(lo),
      ci_high = unname(hi))
  }
  for (dom in c("(overall)", doms)) {
    s <- if (dom == "(overall)") des else des[as.character(des$variables[[domvar]]) == dom, ]
    df <- degf(s)
    r <- svyratio(as.formula(paste0("~", num)), as.formula(paste0("~", den)), s, na.rm = TRUE)
    est <- coef(r); se <- SE(r); q <- qt(0.975, df)
    add("ratio", paste0(num, "/", den), dom, "", est, se, df, est - q * se, est + q * se)
    for (v in qvars) {
      keep <- !is.na(s$variables[[v]])
      if (!any(keep & weights(s, "sampling") > 0)) next
      qdf <- degf(s[keep, ])
      res <- svyquantile(as.formula(paste0("~", v)), s, quantiles = probs, na.rm = TRUE)[[1]]
      for (i in seq_along(probs))
        add("quantile", v, dom, format(probs[i]), res[i, 1], res[i, 4], qdf, res[i, 2],
            res[i, 3])
    }
  }
  do.call(rbind, rows)
}
"""


def _ours(design, domvar, num, den, qvars) -> pd.DataFrame:
    parts = []
    for by in (None, domvar):
        parts.append(svy_ratio(design, num, den, by=by).assign(stat="ratio", level=""))
        for v in qvars:
            res = svy_quantile(design, v, QUANTILES, by=by).assign(stat="quantile")
            parts.append(res.assign(level=res["level"].map(lambda p: f"{p:g}")))
    out = pd.concat(parts, ignore_index=True).rename(columns={domvar: "domain"})
    out["domain"] = out["domain"].fillna("(overall)").astype(str)
    return out


API_CASES = {
    # name: (csv, R design expression of d, Python design builder, domain)
    "clus1": (
        "apiclus1",
        "svydesign(id = ~dnum, fpc = ~fpc, weights = ~pw, data = d)",
        lambda d: SurveyDesign(d, "pw", psu="dnum", fpc="fpc", lonely_psu="fail"),
        "stype",
    ),
    "strat": (
        "apistrat",
        "svydesign(id = ~1, strata = ~stype, fpc = ~fpc, weights = ~pw, data = d)",
        lambda d: SurveyDesign(d, "pw", strata="stype", fpc="fpc", lonely_psu="fail"),
        "awards",
    ),
    "clus1_ps": (
        "apiclus1",
        "postStratify(svydesign(id = ~dnum, fpc = ~fpc, weights = ~pw, data = d), "
        "~stype, data.frame(stype = c('E', 'H', 'M'), Freq = c(4421, 755, 1018)))",
        lambda d: poststratify(
            SurveyDesign(d, "pw", psu="dnum", fpc="fpc", lonely_psu="fail"),
            margin("stype", {"E": 4421, "H": 755, "M": 1018}),
        ),
        "awards",
    ),
    "clus1_jk1": (
        "apiclus1",
        "as.svrepdesign(svydesign(id = ~dnum, fpc = ~fpc, weights = ~pw, data = d), type = 'JK1')",
        lambda d: as_replicate(
            SurveyDesign(d, "pw", psu="dnum", fpc="fpc", lonely_psu="fail"), "JK1"
        ),
        "stype",
    ),
    "strat_jkn": (
        "apistrat",
        "as.svrepdesign(svydesign(id = ~1, strata = ~stype, fpc = ~fpc, "
        "weights = ~pw, data = d), type = 'JKn')",
        lambda d: as_replicate(
            SurveyDesign(d, "pw", strata="stype", fpc="fpc", lonely_psu="fail"), "JKn"
        ),
        "awards",
    ),
}
QVARS = ["api00", "acs.k3", "enroll"]


@pytest.fixture(scope="module")
def api_results():
    if not (API / "apiclus1.csv").exists():
        pytest.skip(f"API reference data absent from {API}")
    probs = ", ".join(map(str, QUANTILES))
    blocks = [
        f"""{name} = local({{
  d <- read.csv("{API / (csv + ".csv")}", stringsAsFactors = FALSE)
  ratio_quantile({expr}, "{dom}", sort(unique(d${dom})), "api00", "api99",
                 c({", ".join(f'"{v}"' for v in QVARS)}), c({probs}))
}})"""
        for name, (csv, expr, _, dom) in API_CASES.items()
    ]
    return run_r(R_FUNCTIONS + "emit(list(" + ",\n".join(blocks) + "))")


@requires_r
@pytest.mark.parametrize("name", list(API_CASES))
def test_api_ratio_and_quantiles_match_r(api_results, name):
    csv, _, build, dom = API_CASES[name]
    design = build(pd.read_csv(API / f"{csv}.csv"))
    _compare(name, _ours(design, dom, "api00", "api99", QVARS), pd.DataFrame(api_results[name]))


# --- random Taylor designs ------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    seed: int
    n_strata: int
    psus: int
    clustered: bool
    fpc: bool
    na_share: float


@st.composite
def specs(draw) -> Spec:
    return Spec(
        seed=draw(st.integers(0, 2**31 - 1)),
        n_strata=draw(st.integers(1, 4)),
        psus=draw(st.integers(2, 5)),
        clustered=draw(st.booleans()),
        fpc=draw(st.booleans()),
        na_share=draw(st.sampled_from([0.0, 0.15])),
    )


def _random_data(spec: Spec) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    rows = []
    for h in range(spec.n_strata):
        for j in range(spec.psus):
            for _ in range(int(rng.integers(1, 5)) if spec.clustered else 1):
                rows.append(
                    {
                        "h": f"H{h}",
                        "psu": f"P{h}_{j}",
                        "N": spec.psus + 3,
                        "w": float(rng.uniform(1, 6)),
                        "y": float(rng.integers(0, 8)),  # ties, as years of service have
                        "x": float(rng.uniform(1, 5)),
                        "dom": str(rng.choice(["d1", "d2"], p=[0.6, 0.4])),
                    }
                )
    df = pd.DataFrame(rows)
    df.loc[rng.random(len(df)) < spec.na_share, "y"] = np.nan
    if not spec.clustered:
        df["psu"] = [f"R{i}" for i in range(len(df))]
        df["N"] = df.groupby("h")["psu"].transform("size") + 4
    return df


def _r_expr(spec: Spec, path: Path) -> str:
    ids = "~psu"
    strata = ", strata = ~h" if spec.n_strata > 1 else ""
    fpc = ", fpc = ~N" if spec.fpc else ""
    return f"""local({{
  d <- read.csv("{path}", stringsAsFactors = FALSE)
  ratio_quantile(svydesign(id = {ids}{strata}{fpc}, weights = ~w, data = d), "dom",
                 sort(unique(d$dom)), "y", "x", "y", c({", ".join(map(str, QUANTILES))}))
}})"""


@requires_r
@settings(
    max_examples=2,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(specs(), min_size=8, max_size=8))
def test_random_ratio_and_quantiles_match_r(batch):
    with tempfile.TemporaryDirectory(prefix="ratio-quantile-") as tmp:
        frames, exprs = [], []
        for i, spec in enumerate(batch):
            df = _random_data(spec)
            path = Path(tmp) / f"d{i}.csv"
            df.to_csv(path, index=False, na_rep="NA")
            frames.append(df)
            exprs.append(_r_expr(spec, path))
        results = run_r(R_FUNCTIONS + "emit(list(" + ",\n".join(exprs) + "))")
    for spec, df, theirs in zip(batch, frames, results, strict=True):
        design = SurveyDesign(
            df,
            "w",
            strata="h" if spec.n_strata > 1 else None,
            psu="psu",
            fpc="N" if spec.fpc else None,
            lonely_psu="fail",
        )
        _compare(str(spec), _ours(design, "dom", "y", "x", ["y"]), pd.DataFrame(theirs))


# --- plain checks (no R) --------------------------------------------------------------------


def test_qrule_math_takes_the_first_value_reaching_the_share():
    x = np.array([3.0, 1.0, 2.0, 4.0])
    w = np.ones(4)
    assert qrule_math(x, w, 0.5) == 2.0  # cumulative share reaches 0.5 exactly at 2
    assert qrule_math(x, w, 0.51) == 3.0
    assert qrule_math(x, w, 0.0) == 2.0  # R's qrule_math(c(3, 1, 2, 4), rep(1, 4), 0) is 2
    assert qrule_math(x, np.array([0.0, 1.0, 1.0, 1.0]), 0.5) == 2.0  # zero weight dropped


def test_quantile_outside_unit_interval_is_refused():
    df = pd.DataFrame({"w": [1.0, 2.0, 1.0], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DesignError, match=r"quantiles must lie in \[0, 1\]"):
        svy_quantile(SurveyDesign(df, "w", lonely_psu="fail"), "y", [50])


# --- plan integration (estimate.py dispatch, schema) ------------------------------------------


def _plan(design: dict, estimates: list[dict]) -> dict:
    from analysis.config.plan import validate_plan

    return validate_plan({"datasets": {"api": {"design": design, "estimates": estimates}}})["api"]


@pytest.mark.skipif(not (API / "apiclus1.csv").exists(), reason=f"API data absent from {API}")
def test_plan_runs_ratio_quantile_replicate_and_calibration():
    """The plan's blocks reach the R-checked functions unchanged (same numbers as direct)."""
    from analysis.survey.estimate import run_estimates

    data = pd.read_csv(API / "apiclus1.csv")
    jk1 = as_replicate(SurveyDesign(data, "pw", psu="dnum", lonely_psu="fail"), "JK1")
    shipped = data.assign(**{f"rw{i}": jk1.replicate_weights[:, i] for i in range(15)})
    design = {
        "weight": "pw",
        "lonely_psu": "fail",
        "replicate": {"type": "JK1", "weights": "^rw[0-9]+$", "scale": 14 / 15},
        "calibration": {
            "method": "poststratify",
            "margins": [{"variable": "stype", "totals": {"E": 4421, "H": 755, "M": 1018}}],
        },
    }
    estimates = [
        {"id": "r", "variable": "api00", "statistic": "ratio", "denominator": "api99"},
        {"id": "q", "variable": "enroll", "statistic": "quantile", "quantiles": [0.5, 0.9]},
        {"id": "m", "variable": "api00", "statistic": "mean", "by": ["awards"]},
    ]
    table = run_estimates(shipped, _plan(design, estimates), dataset="api")
    direct = poststratify(jk1, margin("stype", {"E": 4421, "H": 755, "M": 1018}))
    ratio = svy_ratio(direct, "api00", "api99")
    got = table[table["estimate_id"] == "r"].iloc[0]
    assert got["variable"] == "api00/api99"
    assert got["se"] == pytest.approx(ratio["se"].iloc[0], rel=1e-12)
    quant = table[table["estimate_id"] == "q"]
    assert list(quant["level"]) == ["0.5", "0.9"]
    assert (
        quant["estimate"].tolist()
        == svy_quantile(direct, "enroll", [0.5, 0.9])["estimate"].tolist()
    )
    mean = table[(table["estimate_id"] == "m") & (table["group_var"] == "awards")]
    assert "replicates=JK1x15" in mean["design"].iloc[0]
    assert "poststratify(stype)" in mean["design"].iloc[0]


def test_plan_schema_requires_a_denominator_for_ratios():
    from analysis.config.plan import PlanError

    with pytest.raises(PlanError, match="denominator"):
        _plan(
            {"weight": "w", "lonely_psu": "fail"},
            [{"id": "r", "variable": "y", "statistic": "ratio"}],
        )


def test_plan_refuses_models_on_replicate_designs():
    from analysis.survey.estimate import run_models

    data = pd.DataFrame({"w": [1.0, 2.0, 1.5], "y": [1.0, 2.0, 3.0], "x": [0.0, 1.0, 1.0]})
    data = data.assign(r1=[0.0, 3.0, 2.0], r2=[2.0, 0.0, 2.0], r3=[2.0, 3.0, 0.0])
    entry = {
        "design": {"weight": "w", "replicate": {"type": "JK1", "weights": ["r1", "r2", "r3"]}},
        "models": [{"id": "m", "formula": "y ~ x", "family": "gaussian"}],
    }
    with pytest.raises(DesignError, match="replicate-weight designs"):
        run_models(data, entry, dataset="toy")
