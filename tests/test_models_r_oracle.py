"""svy_glm checked against R `survey` itself on the California API samples (issue 15).

The data come from R's own ``data(api)`` (``sch.wide`` renamed ``sch_wide`` for patsy), so
Python and R fit the same rows. R's ``glm`` stops at ``epsilon = 1e-8``; coefficients agree
to 4 significant digits (``REL``), and closer where R is run to convergence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_oracle import requires_r, run_r

from analysis.survey.design import DesignError, SurveyDesign
from analysis.survey.models import svy_glm

pytestmark = requires_r

REL = 5e-5  # four significant digits

R_DESIGNS = {
    "dstrat": "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)",
    "dclus1": "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)",
}


def _r_data(name: str) -> pd.DataFrame:
    got = run_r(
        f"data(api); d <- {name}; d$stype <- as.character(d$stype); "
        "d$sch.wide <- as.character(d$sch.wide); "
        "emit(d[, c('stype','dnum','snum','pw','fpc','api00','ell','meals','mobility','sch.wide')])"
    )
    return pd.DataFrame(got).rename(columns={"sch.wide": "sch_wide"})


@pytest.fixture(scope="module")
def designs() -> dict[str, SurveyDesign]:
    strat, clus1 = _r_data("apistrat"), _r_data("apiclus1")
    return {
        "dstrat": SurveyDesign(strat, "pw", strata="stype", fpc="fpc"),
        "dclus1": SurveyDesign(clus1, "pw", psu="dnum", fpc="fpc"),
    }


def _r_fit(design: str, formula: str, family: str = "quasibinomial()") -> dict:
    """Coefficients and SEs of R's svyglm, run to convergence (epsilon 1e-14)."""
    return run_r(
        f"data(api); d <- {R_DESIGNS[design]}\n"
        f"fit <- svyglm({formula}, design=d, family={family}, "
        "control=glm.control(epsilon=1e-14, maxit=100))\n"
        "emit(list(coef=unname(coef(fit)), se=unname(SE(fit)), names=names(coef(fit)), "
        "df=fit$df.residual))"
    )


@pytest.mark.parametrize("design", ["dstrat", "dclus1"])
def test_text_outcome_models_the_named_event_as_r(designs, design):
    r = _r_fit(design, 'I(sch.wide=="Yes") ~ ell + meals')
    terms, card = svy_glm("sch_wide ~ ell + meals", designs[design], "binomial", event="Yes")
    assert terms["estimate"].to_numpy() == pytest.approx(r["coef"], rel=REL)
    assert terms["se"].to_numpy() == pytest.approx(r["se"], rel=REL)
    assert card["df"] == r["df"]
    assert card["modelled"] == "P(sch_wide = Yes)" and card["event"] == "Yes"
    assert set(terms["modelled"]) == {"P(sch_wide = Yes)"}
    no, no_card = svy_glm("sch_wide ~ ell + meals", designs[design], "binomial", event="No")
    assert no["estimate"].to_numpy() == pytest.approx(-np.asarray(r["coef"]), rel=REL)
    assert no_card["modelled"] == "P(sch_wide = No)"


def test_logical_outcome_models_true_as_r(designs):
    r = _r_fit("dstrat", "I(api00 > 743) ~ ell + meals")
    terms, card = svy_glm("I(api00 > 743) ~ ell + meals", designs["dstrat"], "binomial")
    assert terms["estimate"].to_numpy() == pytest.approx(r["coef"], rel=REL)
    assert terms["se"].to_numpy() == pytest.approx(r["se"], rel=REL)
    assert card["modelled"] == "P(api00 > 743)"


def test_text_outcome_without_event_is_refused(designs):
    with pytest.raises(DesignError, match=r"'sch_wide'.*\['No', 'Yes'\].*event:"):
        svy_glm("sch_wide ~ ell + meals", designs["dstrat"], "binomial")
    with pytest.raises(DesignError, match="none of its levels"):
        svy_glm("sch_wide ~ ell", designs["dstrat"], "binomial", event="yes")
    with pytest.raises(DesignError, match="not numeric"):
        svy_glm("sch_wide ~ ell", designs["dstrat"], "gaussian")


# R by hand: the AME of a variable is the weighted mean of the unit-level change in the predicted
# probability, shifting the variable itself (central difference for a continuous variable, the
# reference -> level change for a factor) and rebuilding the model matrix with model.matrix().
# Its SE is the design variance (svyrecvar) of the linearised AME: the units' sampling plus the
# coefficients' influence (svyglm's estfun %*% naive.cov) times the AME's numerical gradient.
R_AME = """
data(api); d <- {design}
fit <- svyglm({formula}, design=d, family=quasibinomial(),
              control=glm.control(epsilon=1e-14, maxit=100))
mf <- model.frame(d)
tt <- delete.response(terms(fit))
prob <- function(b, nd) {{
  X <- model.matrix(tt, model.frame(tt, nd, xlev=fit$xlevels))
  as.vector(plogis(X %*% b))
}}
unit <- function(b, v, level) {{
  hi <- mf; lo <- mf
  if (is.null(level)) {{
    h <- 1e-4 * sd(mf[[v]]); hi[[v]] <- mf[[v]] + h; lo[[v]] <- mf[[v]] - h
    (prob(b, hi) - prob(b, lo)) / (2 * h)
  }} else {{
    lev <- fit$xlevels[[v]]
    hi[[v]] <- factor(level, levels=lev); lo[[v]] <- factor(lev[1], levels=lev)
    prob(b, hi) - prob(b, lo)
  }}
}}
w <- weights(d)
b <- coef(fit)
infl <- (model.matrix(fit) * fit$residuals * fit$weights) %*% fit$naive.cov
out <- list()
for (item in {items}) {{
  v <- item[1]; level <- if (length(item) > 1) item[2] else NULL
  g <- unit(b, v, level)
  est <- sum(w * g) / sum(w)
  grad <- sapply(seq_along(b), function(k) {{
    e <- 1e-6 * max(1, abs(b[k])); bp <- b; bm <- b; bp[k] <- b[k] + e; bm[k] <- b[k] - e
    (sum(w * unit(bp, v, level)) - sum(w * unit(bm, v, level))) / sum(w) / (2 * e)
  }})
  z <- w * (g - est) / sum(w) + infl %*% grad
  se <- sqrt(svyrecvar(z, d$cluster, d$strata, d$fpc, postStrata=d$postStrata)[1, 1])
  out[[paste(item, collapse=":")]] <- list(ame=est, se=se)
}}
emit(out)
"""


def _r_items(items: list[tuple[str, ...]]) -> str:
    return "list(" + ", ".join("c(" + ", ".join(f"'{p}'" for p in i) + ")" for i in items) + ")"


AME_CASES = [
    # (design, python formula, R formula, {python row: R item})
    (
        "dstrat",
        "I(api00 > 743) ~ ell + I(ell**2) + meals",
        "I(api00 > 743) ~ ell + I(ell^2) + meals",
        {"ell": ("ell",), "meals": ("meals",)},
    ),
    (
        "dclus1",
        "I(api00 > 700) ~ ell * meals + stype",
        "I(api00 > 700) ~ ell * meals + stype",
        {
            "ell": ("ell",),
            "meals": ("meals",),
            "stype[T.H]": ("stype", "H"),
            "stype[T.M]": ("stype", "M"),
        },
    ),
    (
        "dstrat",
        "I(api00 > 700) ~ mobility + ell * stype",
        "I(api00 > 700) ~ mobility + ell * stype",
        {
            "mobility": ("mobility",),
            "ell": ("ell",),
            "stype[T.H]": ("stype", "H"),
            "stype[T.M]": ("stype", "M"),
        },
    ),
]


@pytest.mark.parametrize(("design", "formula", "r_formula", "rows"), AME_CASES)
def test_average_marginal_effects_match_r_by_hand(designs, design, formula, r_formula, rows):
    r = run_r(
        R_AME.format(design=R_DESIGNS[design], formula=r_formula, items=_r_items(rows.values()))
    )
    terms, _ = svy_glm(formula, designs[design], "binomial")
    got = terms.set_index("term")
    for row, item in rows.items():
        ref = r[":".join(item)]
        assert got.loc[row, "ame"] == pytest.approx(ref["ame"], abs=1e-6, rel=1e-6), row
        assert got.loc[row, "ame_se"] == pytest.approx(ref["se"], rel=1e-4), row
    others = got.drop(index=["Intercept", *rows])
    assert others["ame"].isna().all()  # I(ell**2), ell:meals, ... carry no AME of their own


R_TERM_TEST = """
data(api); d <- {design}
fit <- svyglm({formula}, design=d, family={family},
              control=glm.control(epsilon=1e-14, maxit=100))  # R run to convergence
out <- list()
for (term in {terms}) {{
  rt <- regTermTest(fit, as.formula(paste("~", term)))
  out[[term]] <- list(F=as.numeric(rt$Ftest), df=rt$df, ddf=rt$ddf, p=as.numeric(rt$p))
}}
emit(out)
"""

TERM_CASES = [
    # (design, formula, family (R), family (Python), {python term: R term})
    ("dstrat", "api00 ~ ell + meals + stype", "gaussian()", "gaussian", {"stype": "stype"}),
    (
        "dclus1",
        "api00 ~ ell * stype + mobility",
        "gaussian()",
        "gaussian",
        {"stype": "stype", "ell:stype": "ell:stype", "mobility": "mobility"},
    ),
    (
        "dclus1",
        "I(api00 > 700) ~ meals + stype",
        "quasibinomial()",
        "binomial",
        {"stype": "stype", "meals": "meals"},
    ),
]


@pytest.mark.parametrize(("design", "formula", "r_family", "family", "terms"), TERM_CASES)
def test_term_tests_match_regtermtest(designs, design, formula, r_family, family, terms):
    r_terms = "c(" + ", ".join(f"'{t}'" for t in terms.values()) + ")"
    r = run_r(
        R_TERM_TEST.format(
            design=R_DESIGNS[design], formula=formula, family=r_family, terms=r_terms
        )
    )
    _, card = svy_glm(formula, designs[design], family)
    tests = {t["term"]: t for t in card["term_tests"]}
    for term, r_term in terms.items():
        ref, got = r[r_term], tests[term]
        assert got["F"] == pytest.approx(ref["F"], rel=REL), term
        assert got["p"] == pytest.approx(ref["p"], rel=REL), term
        assert (got["df_num"], got["df_den"]) == (ref["df"], ref["ddf"]), term
