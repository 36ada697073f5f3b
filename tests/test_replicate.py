"""Replicate-weight designs checked against R ``survey`` (``svrepdesign``, ``as.svrepdesign``).

* API data (the CSVs of R's ``data(api)``, read by both sides): ``as.svrepdesign`` JK1 of the
  one-stage cluster sample and JKn of the stratified sample (both with fpc) against
  :func:`as_replicate`; and the replicate weight columns R made, given back to
  :func:`replicate_design` as a survey would ship them.
* Random designs (hypothesis, seeded; one Rscript call per batch): strata with two PSUs each,
  R's BRR, Fay (rho 0.5), JKn and bootstrap replicate weights written as columns, read back by
  ``svrepdesign(repweights = "^rep", type = ..., mse = ...)`` in R and by
  :func:`replicate_design` here; NA in the variables, domains, proportions.

Estimates, SEs and interval limits must agree to 4 significant digits and df (R's ``degf`` of
the domain's subset) exactly. Bootstrap is compared only through given weights: R's random
draws cannot be reproduced.
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

from analysis.survey.design import DesignError, SurveyDesign
from analysis.survey.replicate import (
    ReplicateDesign,
    as_replicate,
    qr_rank,
    rep_mean,
    rep_proportion,
    rep_total,
    replicate_design,
)

API = Path("/work/shared/reference-data/api")
SIG = 5e-5  # four significant digits
LEVELS = ("a", "b", "c")

R_FUNCTIONS = r"""
estimates <- function(des, domvar, doms, yvars, tvar, props) {
  rows <- list()
  add <- function(stat, variable, dom, level, est, se, df, ci) {
    rows[[length(rows) + 1]] <<- data.frame(stat = stat, variable = variable, domain = dom,
      level = level, estimate = unname(est), se = unname(se), df = df, ci_low = ci[1],
      ci_high = ci[2])
  }
  for (dom in c("(overall)", doms)) {
    s <- if (dom == "(overall)") des else des[as.character(des$variables[[domvar]]) == dom, ]
    df <- degf(s)
    for (y in yvars) {
      m <- svymean(as.formula(paste0("~", y)), s, na.rm = TRUE)
      add("mean", y, dom, "", coef(m), SE(m), df, confint(m, df = df))
    }
    tot <- svytotal(as.formula(paste0("~", tvar)), s, na.rm = TRUE)
    add("total", tvar, dom, "", coef(tot), SE(tot), df, confint(tot, df = df))
    for (p in props) {
      ok <- !is.na(s$variables[[p$var]])
      share <- sum(weights(s, "sampling")[ok] * (s$variables[[p$var]][ok] == p$level)) /
        sum(weights(s, "sampling")[ok])
      if (share < 1e-6 || share > 1 - 1e-6) next
      f <- as.formula(paste0("~I(", p$var, " == '", p$level, "')"))
      # svyglm on replicate designs does not drop NA rows itself: drop them, keep the df
      ci <- svyciprop(f, s[ok, ], method = "logit", df = df)
      add("proportion", p$var, dom, p$level, as.numeric(ci), sqrt(attr(ci, "var")), df,
          attr(ci, "ci"))
    }
  }
  do.call(rbind, rows)
}
"""


def _ours(design, domvar, yvars, tvar, props, funcs=None) -> pd.DataFrame:
    """Our estimates in the layout of R's ``estimates()`` (replicate functions by default)."""
    mean, total, proportion = funcs or (rep_mean, rep_total, rep_proportion)
    parts = []
    for by in (None, domvar):
        for y in yvars:
            parts.append(mean(design, y, by=by).assign(stat="mean", level=""))
        parts.append(total(design, tvar, by=by).assign(stat="total", level=""))
        for var in sorted({p["var"] for p in props}):
            res = proportion(design, var, by=by).assign(stat="proportion")
            parts.append(res.assign(level=res["level"].astype(str)))
    out = pd.concat(parts, ignore_index=True).rename(columns={domvar: "domain"})
    out["domain"] = out["domain"].fillna("(overall)").astype(str)
    return out


def _compare(label: str, ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    keys = ["stat", "variable", "domain", "level"]
    theirs = theirs.assign(level=theirs["level"].fillna("").astype(str))
    merged = theirs.merge(ours, on=keys, suffixes=("_r", ""), how="left", indicator=True)
    assert (merged["_merge"] == "both").all(), f"{label}: R has rows we lack"
    for _, row in merged.iterrows():
        where = f"{label} {row['stat']} {row['variable']} {row['domain']} {row['level']}"
        assert row["df"] == row["df_r"], f"{where}: df ours {row['df']}, R {row['df_r']}"
        if np.isnan(float(row["estimate_r"])):  # no answers in the domain: R's SE is 0
            assert np.isnan(float(row["estimate"])), where
            continue
        cols = ["estimate", "se", "ci_low", "ci_high"]
        if row["stat"] == "proportion" and row["df"] == 1:
            # R's confint.svyglm turns t(1) into a normal level, 1 - 2 * pnorm(qt(.025, 1)),
            # which is 1 in double precision: its limits become 0 and NaN
            cols = cols[:2]
        elif row["stat"] == "proportion" and min(row["ci_low_r"], 1 - row["ci_high_r"]) < 1e-8:
            # a replicate share of 0 or 1: R's glm stops at a huge logit, we take it as
            # infinite; both put the limit at 0 or 1
            assert min(row["ci_low"], 1 - row["ci_high"]) < 1e-8, where
            cols = cols[:2]
        for col in cols:
            mine, r = float(row[col]), float(row[f"{col}_r"])
            scale = max(abs(r), abs(float(row["estimate_r"])) * 1e-6, 1e-12)
            same = (np.isnan(mine) and np.isnan(r)) or abs(mine - r) <= SIG * scale
            assert same, f"{where} {col}: ours {mine!r}, R {r!r}"


API_DESIGNS = {
    # name: (csv, R svydesign arguments, Python SurveyDesign arguments, replicate type, domain)
    "clus1_jk1": ("apiclus1", "id = ~dnum, fpc = ~fpc", {"psu": "dnum", "fpc": "fpc"}, "JK1"),
    "strat_jkn": (
        "apistrat",
        "id = ~1, strata = ~stype, fpc = ~fpc",
        {"strata": "stype", "fpc": "fpc"},
        "JKn",
    ),
}
API_STATS = {
    "yvars": ["api00", "acs.k3"],
    "tvar": "enroll",
    "props": [{"var": "sch.wide", "level": "Yes"}, {"var": "sch.wide", "level": "No"}],
}


@pytest.fixture(scope="module")
def api_results(tmp_path_factory):
    if not (API / "apistrat.csv").exists():
        pytest.skip(f"API reference data absent from {API}")
    tmp = tmp_path_factory.mktemp("replicate-api")
    calls = []
    for name, (csv, args, _, rtype) in API_DESIGNS.items():
        dom = "awards" if name.startswith("strat") else "stype"
        calls.append(
            f"""{name} = local({{
  d <- read.csv("{API / (csv + ".csv")}", stringsAsFactors = FALSE)
  des <- svydesign({args}, weights = ~pw, data = d)
  r <- as.svrepdesign(des, type = "{rtype}", compress = FALSE)
  rw <- unclass(as.matrix(weights(r, "analysis"))); colnames(rw) <- paste0("rep", seq_len(ncol(rw)))
  write.csv(cbind(d, rw), "{tmp / name}.csv", row.names = FALSE)
  list(scale = r$scale, rscales = r$rscales, degf = degf(r),
       rows = estimates(r, "{dom}", sort(unique(d${dom})), c("api00", "acs.k3"), "enroll",
                        list(list(var = "sch.wide", level = "Yes"),
                             list(var = "sch.wide", level = "No"))))
}})"""
        )
    return tmp, run_r(R_FUNCTIONS + "emit(list(" + ",\n".join(calls) + "))")


@requires_r
@pytest.mark.parametrize("name", list(API_DESIGNS))
def test_as_replicate_matches_r_as_svrepdesign(api_results, name):
    _, results = api_results
    csv, _, py_args, rtype = API_DESIGNS[name]
    data = pd.read_csv(API / f"{csv}.csv")
    design = as_replicate(SurveyDesign(data, "pw", lonely_psu="fail", **py_args), rtype)
    dom = "awards" if name.startswith("strat") else "stype"
    assert design.df == results[name]["degf"]
    _compare(name, _ours(design, dom, **API_STATS), pd.DataFrame(results[name]["rows"]))


@requires_r
@pytest.mark.parametrize("name", list(API_DESIGNS))
def test_given_replicate_columns_match_r(api_results, name):
    tmp, results = api_results
    data = pd.read_csv(tmp / f"{name}.csv")
    rtype = API_DESIGNS[name][3]
    rscales = results[name]["rscales"] if rtype == "JKn" else None
    design = replicate_design(
        data, "pw", r"^rep[0-9]+$", rtype, scale=results[name]["scale"], rscales=rscales
    )
    dom = "awards" if name.startswith("strat") else "stype"
    _compare(name, _ours(design, dom, **API_STATS), pd.DataFrame(results[name]["rows"]))


# --- random designs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    seed: int
    n_strata: int
    rtype: str  # BRR, Fay, JKn, bootstrap
    mse: bool
    na_share: float


@st.composite
def specs(draw) -> Spec:
    return Spec(
        seed=draw(st.integers(0, 2**31 - 1)),
        n_strata=draw(st.integers(2, 6)),
        rtype=draw(st.sampled_from(["BRR", "Fay", "JKn", "bootstrap"])),
        mse=draw(st.booleans()),
        na_share=draw(st.sampled_from([0.0, 0.15])),
    )


def _random_data(spec: Spec) -> pd.DataFrame:
    """Strata of two PSUs (BRR needs two), a few rows each, a numeric and a factor variable."""
    rng = np.random.default_rng(spec.seed)
    rows = []
    for h in range(spec.n_strata):
        for j in range(2):
            for _ in range(int(rng.integers(1, 5))):
                rows.append(
                    {
                        "h": f"H{h}",
                        "psu": f"P{h}_{j}",
                        "w": float(rng.uniform(1, 6)),
                        "y": float(rng.normal(10 + h, 3)),
                        "grp": str(rng.choice(LEVELS, p=[0.5, 0.3, 0.2])),
                        "dom": str(rng.choice(["d1", "d2"], p=[0.6, 0.4])),
                    }
                )
    df = pd.DataFrame(rows)
    df.loc[rng.random(len(df)) < spec.na_share, "y"] = np.nan
    df.loc[rng.random(len(df)) < spec.na_share / 2, "grp"] = None
    return df


def _r_random_call(spec: Spec, src: Path, out: Path) -> str:
    as_rep = {
        "BRR": 'type = "BRR"',
        "Fay": 'type = "Fay", fay.rho = 0.5',
        "JKn": 'type = "JKn"',
        "bootstrap": 'type = "bootstrap", replicates = 12',
    }[spec.rtype]
    rep_args = {
        "BRR": 'type = "BRR"',
        "Fay": 'type = "Fay", rho = 0.5',
        "JKn": 'type = "JKn", rscales = r$rscales',
        "bootstrap": 'type = "bootstrap", scale = r$scale',
    }[spec.rtype]
    props = ", ".join(f'list(var = "grp", level = "{lev}")' for lev in LEVELS)
    return f"""local({{
  set.seed({spec.seed % 100000})
  d <- read.csv("{src}", stringsAsFactors = FALSE)
  r <- as.svrepdesign(svydesign(id = ~psu, strata = ~h, weights = ~w, data = d), {as_rep},
                      compress = FALSE)
  rw <- unclass(as.matrix(weights(r, "analysis"))); colnames(rw) <- paste0("rep", seq_len(ncol(rw)))
  d2 <- cbind(d, rw)
  write.csv(d2, "{out}", row.names = FALSE)
  repd <- svrepdesign(data = d2, repweights = "^rep", weights = ~w, {rep_args},
                   combined.weights = TRUE, mse = {str(spec.mse).upper()})
  list(scale = repd$scale, rscales = repd$rscales,
       rows = estimates(repd, "dom", sort(unique(d$dom)), "y", "y", list({props})))
}})"""


@requires_r
@settings(
    max_examples=2,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every try is an Rscript run
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(specs(), min_size=8, max_size=8))
def test_random_replicate_designs_match_r(batch):
    with tempfile.TemporaryDirectory(prefix="replicate-oracle-") as tmp:
        calls, outs = [], []
        for i, spec in enumerate(batch):
            src, out = Path(tmp) / f"d{i}.csv", Path(tmp) / f"r{i}.csv"
            _random_data(spec).to_csv(src, index=False, na_rep="NA")
            calls.append(_r_random_call(spec, src, out))
            outs.append(out)
        results = run_r(R_FUNCTIONS + "emit(list(" + ",\n".join(calls) + "))")
        frames = [pd.read_csv(out) for out in outs]
    for spec, data, theirs in zip(batch, frames, results, strict=True):
        design = replicate_design(
            data,
            "w",
            r"^rep[0-9]+$",
            spec.rtype,
            fay_rho=0.5 if spec.rtype == "Fay" else None,
            scale=theirs["scale"] if spec.rtype == "bootstrap" else None,
            rscales=theirs["rscales"] if spec.rtype == "JKn" else None,
            mse=spec.mse,
        )
        assert design.scale == pytest.approx(theirs["scale"], rel=1e-12), spec
        props = [{"var": "grp"}]  # not "g": svyglm.svyrep.design has a local g
        ours = _ours(design, "dom", ["y"], "y", props)
        _compare(str(spec), ours, pd.DataFrame(theirs["rows"]))


# --- plain checks (no R) --------------------------------------------------------------------


def test_qr_rank_counts_independent_columns():
    a = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])  # col3 = col1 + col2
    assert qr_rank(a) == 2
    assert qr_rank(np.eye(4)) == 4


def test_jkn_needs_rscales_and_fay_needs_rho():
    data = pd.DataFrame({"w": [1.0, 2.0], "r1": [1.0, 0.0], "r2": [0.0, 3.0]})
    with pytest.raises(DesignError, match="rscales"):
        replicate_design(data, "w", ["r1", "r2"], "JKn")
    with pytest.raises(DesignError, match="fay_rho"):
        replicate_design(data, "w", ["r1", "r2"], "Fay")


def test_missing_replicate_weight_is_refused_with_its_row():
    data = pd.DataFrame({"w": [1.0, 2.0, 1.0], "r1": [1.0, np.nan, 2.0], "r2": [0.0, 3.0, 1.0]})
    with pytest.raises(DesignError, match=r"rows \(1-based\) 2"):
        replicate_design(data, "w", "^r[0-9]$", "JK1", dataset="officers")


def test_unknown_pattern_names_the_available_columns():
    data = pd.DataFrame({"w": [1.0, 2.0], "r1": [1.0, 0.0]})
    with pytest.raises(DesignError, match="available columns: w, r1"):
        replicate_design(data, "w", "^repw", "JK1")


def test_brr_variance_is_known_for_two_psus():
    """BRR with one stratum of two PSUs: the variance of a total is (t1 - t2)^2 / 4 * ... ."""
    data = pd.DataFrame({"w": [2.0, 2.0], "y": [1.0, 5.0]})
    reps = np.array([[4.0, 0.0], [0.0, 4.0]])  # half-samples: one PSU doubled, other dropped
    design = ReplicateDesign(data, "w", reps, "BRR")
    total = rep_total(design, "y")
    # replicate totals 4 and 20, mean 12: variance = 1/2 * (64 + 64) = 64
    assert total["estimate"].iloc[0] == 12.0
    assert total["se"].iloc[0] == pytest.approx(8.0)


def test_bootstrap_variance_of_a_total_is_the_linearisation_variance_on_average():
    """R's bootstrap (n_h PSUs with replacement, scale nbar/((nbar-1)(R-1))) is unbiased for
    the with-replacement variance of a total when every stratum has the same number of PSUs."""
    rng = np.random.default_rng(7)
    data = pd.DataFrame(
        {
            "h": np.repeat(["a", "b", "c"], 20),
            "psu": np.repeat(np.arange(30), 2),
            "w": rng.uniform(1, 4, 60),
            "y": rng.normal(5, 2, 60),
        }
    )
    taylor = SurveyDesign(data, "w", strata="h", psu="psu", lonely_psu="fail")
    boot = as_replicate(taylor, "bootstrap", replicates=4000, seed=11)
    assert boot.scale == pytest.approx(10 / (9 * 3999))
    from analysis.survey.design import svy_total

    se_taylor = svy_total(taylor, "y")["se"].iloc[0]
    se_boot = rep_total(boot, "y")["se"].iloc[0]
    # 4000 replicates: the variance estimate's own relative SE is about sqrt(2/4000) = 2%
    assert se_boot == pytest.approx(se_taylor, rel=0.05)


def test_bootstrap_with_fpc_draws_each_psu_at_most_its_population_share():
    data = pd.DataFrame({"psu": np.arange(8), "w": 2.0, "y": np.arange(8.0), "N": 16})
    taylor = SurveyDesign(data, "w", psu="psu", fpc="N", lonely_psu="fail")
    boot = as_replicate(taylor, "bootstrap", replicates=200, seed=3)
    multipliers = boot.replicate_weights / 2.0
    assert (multipliers.sum(axis=0) == 8).all()  # n PSUs drawn per replicate
    assert multipliers.max() <= 2  # a pseudo-population of 16 holds each PSU twice


@requires_r
@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty"])
def test_jkn_with_a_lonely_psu_matches_r(tmp_path, rule):
    """R's jknweights under survey.lonely.psu: adjust adds a replicate for the lonely stratum
    (others reweighted by nstrat/(nstrat-1)); remove and certainty add none."""
    rng = np.random.default_rng(5)
    psus = {"H0": 3, "H1": 1, "H2": 2, "H3": 4}
    rows = [
        {"h": h, "psu": f"{h}_{j}", "w": rng.uniform(1, 5), "y": rng.normal(), "dom": d}
        for h, n in psus.items()
        for j in range(n)
        for d in rng.choice(["d1", "d2"], size=int(rng.integers(1, 4)))
    ]
    data = pd.DataFrame(rows)
    path = tmp_path / "lonely.csv"
    data.to_csv(path, index=False)
    theirs = run_r(
        R_FUNCTIONS
        + f"""
options(survey.lonely.psu = "{rule}")
d <- read.csv("{path}", stringsAsFactors = FALSE)
r <- as.svrepdesign(svydesign(id = ~psu, strata = ~h, weights = ~w, data = d), type = "JKn")
emit(estimates(r, "dom", c("d1", "d2"), "y", "y", list()))
"""
    )
    taylor = SurveyDesign(data, "w", strata="h", psu="psu", lonely_psu=rule)
    ours = _ours(as_replicate(taylor, "JKn"), "dom", ["y"], "y", [])
    _compare(rule, ours, pd.DataFrame(theirs))


def test_jkn_with_a_lonely_psu_fails_by_default_as_r():
    data = pd.DataFrame(
        {"h": ["a", "a", "b"], "psu": [1, 2, 3], "w": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}
    )
    taylor = SurveyDesign(data, "w", strata="h", psu="psu", lonely_psu="fail")
    with pytest.raises(DesignError, match="stratum 'b' has only one PSU"):
        as_replicate(taylor, "JKn")
    with pytest.raises(DesignError, match="JK1 replicates need an unstratified design"):
        as_replicate(taylor, "JK1")
