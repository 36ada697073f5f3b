"""Design-based generalised linear models (R ``svyglm`` in numpy and statsmodels).

Point estimates maximise the weighted pseudo-likelihood (statsmodels ``GLM`` with
``var_weights`` = sampling weights rescaled to mean 1, as R does). The covariance is the design
sandwich ``B^-1 M B^-1``: ``B = X' W X`` with the IRLS working weights, ``M`` the design variance
(:meth:`SurveyDesign.variance`: stratified, centred PSU totals with ``n_h / (n_h - 1)`` and fpc)
of the weighted score contributions. This is R's ``svy.varcoef``; no further small-sample factor.

Degrees of freedom follow R's ``summary.svyglm``: ``df = degf(design) - rank + 1``, where
``degf`` counts PSUs minus strata among the rows analysed. Intervals and p-values use ``t(df)``.

Rows with NA in any model variable, and rows outside ``domain``, are not fitted but stay in the
design with influence 0 (domain estimation, never subsetting before variance).

Families: ``gaussian``, ``binomial`` (logit; odds ratios and average marginal effects),
``poisson`` (log; rate ratios) and ``negbin`` (log; NB2 with the dispersion ``alpha`` estimated
by a weighted moment estimator and then held fixed: the sandwich stays valid for the mean
parameters). ``ordinal`` (proportional odds, cumulative logit) is fitted by
:func:`analysis.ordinal.svy_ordinal` with the same preparation, sandwich and outputs.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from scipy import stats

from analysis.design import DesignError, SurveyDesign, domain_mask

FAMILIES = ("gaussian", "binomial", "poisson", "negbin", "ordinal")
LINKS = {"gaussian": "identity", "binomial": "logit", "ordinal": "logit"}


def _family(name: str, alpha: float = 1.0) -> sm.families.Family:
    if name == "gaussian":
        return sm.families.Gaussian()
    if name == "binomial":
        return sm.families.Binomial()
    if name == "poisson":
        return sm.families.Poisson()
    return sm.families.NegativeBinomial(alpha=alpha)


def formula_variables(formula: str, columns: Sequence[str]) -> list[str]:
    """Data columns named in a patsy formula, in order of first appearance."""
    found: list[str] = []
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula):
        if token in columns and token not in found:
            found.append(token)
    return found


def _model_frame(
    data: pd.DataFrame, variables: list[str], reference: Mapping[str, object]
) -> pd.DataFrame:
    """Numeric columns as float, others as categoricals with the reference level first."""
    out = {}
    for col in variables:
        s = data[col]
        if col in reference:
            levels = sorted(pd.unique(s).tolist(), key=lambda v: (v != reference[col], str(v)))
            if reference[col] not in levels:
                raise DesignError(
                    f"reference level {reference[col]!r} of {col!r} does not occur in the "
                    f"analysed rows; levels present: {sorted(map(str, levels))}"
                )
            out[col] = pd.Categorical(s, categories=levels)
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            out[col] = pd.Categorical(s, categories=sorted(pd.unique(s).tolist(), key=str))
    return pd.DataFrame(out, index=data.index)


def _check_outcome(y: np.ndarray, family: str, name: str) -> None:
    if family == "binomial" and not np.isin(y, (0.0, 1.0)).all():
        bad = sorted(set(np.unique(y)) - {0.0, 1.0})[:5]
        raise DesignError(f"binomial outcome {name!r} must be 0/1; found values {bad}")
    if family in ("poisson", "negbin") and (y < 0).any():
        raise DesignError(f"{family} outcome {name!r} must be counts >= 0")


def _fit(y, x, w, family: str) -> tuple[object, float | None, list[str]]:
    """Weighted GLM fit; returns result, negbin alpha (or None) and warning messages."""
    caught: list[str] = []
    alpha = None
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        if family == "negbin":
            res = sm.GLM(y, x, family=_family("poisson"), var_weights=w).fit()
            for _ in range(25):
                mu = res.fittedvalues
                new = max(float((w * ((y - mu) ** 2 - y)).sum() / (w * mu**2).sum()), 1e-8)
                start = res.params
                res = sm.GLM(y, x, family=_family("negbin", new), var_weights=w).fit(
                    start_params=start
                )
                done = alpha is not None and abs(new - alpha) < 1e-8 * max(1.0, alpha)
                alpha = new
                if done:
                    break
        else:
            res = sm.GLM(y, x, family=_family(family), var_weights=w).fit()
    caught = sorted({f"{r.category.__name__}: {r.message}" for r in rec})
    return res, alpha, caught


def _sandwich_influence(res, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-row influence values of the coefficients: score contributions times the bread."""
    fam = res.model.family
    mu = np.asarray(res.fittedvalues)
    gprime = fam.link.deriv(mu)
    work_w = w / (fam.variance(mu) * gprime**2)
    score = x * (work_w * (y - mu) * gprime)[:, None]
    bread = np.linalg.inv(x.T @ (x * work_w[:, None]))
    return score @ bread


def _ame(beta, x, w, infl, names, term_cols) -> tuple[np.ndarray, np.ndarray]:
    """Average marginal effects of a logit model and their per-row influence values.

    Columns of a categorical term: discrete change from the reference level (all the term's
    columns 0) to that level. Other 0/1 columns: discrete change 0 -> 1. Other columns (and
    interactions): the average derivative ``beta_j p (1 - p)``.
    """

    def p_of(m):
        return 1 / (1 + np.exp(-(m @ beta)))

    wsum = w.sum()
    est = np.full(len(names), np.nan)
    z = np.zeros((x.shape[0], len(names)))
    for j, name in enumerate(names):
        if name == "Intercept":
            continue
        group = term_cols.get(name, [j])
        binary = np.isin(x[:, j], (0.0, 1.0)).all()
        if len(group) > 1 or binary:
            x1, x0 = x.copy(), x.copy()
            x1[:, group] = 0.0
            x0[:, group] = 0.0
            x1[:, j] = 1.0
            p1, p0 = p_of(x1), p_of(x0)
            g = p1 - p0
            grad = w[:, None] * ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0)
        else:
            p = p_of(x)
            g = beta[j] * p * (1 - p)
            dp = p * (1 - p)
            grad = w[:, None] * (beta[j] * (dp * (1 - 2 * p))[:, None] * x)
            grad[:, j] += w * dp
        est[j] = float((w * g).sum() / wsum)
        dgrad = grad.sum(axis=0) / wsum
        z[:, j] = w * (g - est[j]) / wsum + infl @ dgrad
    return est, z


@dataclass
class PreparedModel:
    """The analysed rows of a model and its patsy matrices (shared by every family)."""

    variables: list[str]
    in_domain: np.ndarray  # rows in the domain (boolean, full design)
    used: np.ndarray  # rows fitted: in the domain and complete in every model variable
    dropped_by_variable: dict[str, int]
    y_df: pd.DataFrame
    x_df: pd.DataFrame
    rank: int

    @property
    def names(self) -> list[str]:
        return list(self.x_df.columns)


def prepare_model(
    formula: str,
    design: SurveyDesign,
    reference: Mapping[str, object],
    domain: Mapping[str, Sequence] | None,
) -> PreparedModel:
    """Domain, complete rows (NA dropped and counted), model matrices; full rank or raise."""
    data = design.data
    variables = formula_variables(formula, list(map(str, data.columns)))
    for col in reference:
        if col not in variables:
            raise DesignError(f"reference level given for {col!r}, which is not in {formula!r}")
    in_domain = domain_mask(data, domain)
    na = data[variables].isna().to_numpy()
    dropped_by_var = {v: int((na[:, i] & in_domain).sum()) for i, v in enumerate(variables)}
    used = in_domain & ~na.any(axis=1)
    if used.sum() == 0:
        raise DesignError(f"no complete rows for model {formula!r} in the domain {domain}")
    frame = _model_frame(data.loc[used, variables], variables, reference)
    try:
        y_df, x_df = patsy.dmatrices(formula, frame, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise DesignError(f"cannot build the model matrix for {formula!r}: {exc}") from exc
    x = x_df.to_numpy(dtype=float)
    rank = int(np.linalg.matrix_rank(x))
    if rank < x.shape[1]:
        raise DesignError(
            f"model {formula!r}: the design matrix is rank deficient ({rank} < {x.shape[1]} "
            f"columns: {list(x_df.columns)}); drop or merge collinear terms or empty levels"
        )
    return PreparedModel(variables, in_domain, used, dropped_by_var, y_df, x_df, rank)


def t_quantile(df: int, level: float = 0.95) -> float:
    return float(stats.t.ppf(0.5 + level / 2, df)) if df > 0 else np.nan


def coefficient_table(
    names: list[str],
    beta: np.ndarray,
    vcov: np.ndarray,
    df: int,
    n: int,
    design: SurveyDesign,
    family: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Tidy terms: estimate, design SE, t(df) interval and p-value of each coefficient."""
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    q = t_quantile(df, level)
    tval = np.divide(beta, se, out=np.full_like(beta, np.nan), where=se > 0)
    p = 2 * stats.t.sf(np.abs(tval), df) if df > 0 else np.full_like(beta, np.nan)
    return pd.DataFrame(
        {
            "term": names,
            "estimate": beta,
            "se": se,
            "ci_low": beta - q * se,
            "ci_high": beta + q * se,
            "p": p,
            "df": df,
            "n": n,
            "design": design.describe(),
            "family": family,
        }
    )


def model_card(
    formula: str,
    family: str,
    design: SurveyDesign,
    prepared: PreparedModel,
    reference: Mapping[str, object],
    domain: Mapping[str, Sequence] | None,
    df: int,
    converged: bool,
    warnings_: list[str],
    **extra: object,
) -> dict:
    """The model card every family writes (``extra`` keys go after ``converged``)."""
    caught = list(warnings_)
    lonely = design.lonely_strata()
    if lonely:
        caught.append(
            f"strata with one PSU handled by lonely_psu={design.lonely_psu}: "
            f"{', '.join(map(str, lonely))}"
        )
    n = int(prepared.used.sum())
    return {
        "formula": formula,
        "family": family,
        "link": LINKS.get(family, "log"),
        "design": design.describe(),
        "domain": {
            k: list(v) if isinstance(v, list | tuple) else [v] for k, v in (domain or {}).items()
        },
        "reference": {k: str(v) for k, v in reference.items()},
        "n": n,
        "n_domain": int(prepared.in_domain.sum()),
        "n_dropped": int(prepared.in_domain.sum()) - n,
        "n_dropped_by_variable": prepared.dropped_by_variable,
        "df": int(df),
        "n_psu": design.n_psu,
        "n_strata": design.n_strata,
        "converged": bool(converged),
        **extra,
        "variance": "Taylor linearisation (design sandwich, R svyglm)",
        "warnings": caught,
    }


def svy_glm(
    formula: str,
    design: SurveyDesign,
    family: str = "gaussian",
    reference: Mapping[str, object] | None = None,
    domain: Mapping[str, Sequence] | None = None,
    level: float = 0.95,
) -> tuple[pd.DataFrame, dict]:
    """Fit a design-based GLM (or, ``family="ordinal"``, a proportional-odds model); return
    the tidy terms table and a model card."""
    if family not in FAMILIES:
        raise DesignError(f"family must be one of {FAMILIES}, not {family!r}")
    if family == "ordinal":
        from analysis.ordinal import svy_ordinal

        return svy_ordinal(formula, design, reference=reference, domain=domain, level=level)
    reference = dict(reference or {})
    data = design.data
    prepared = prepare_model(formula, design, reference, domain)
    used, x_df, rank = prepared.used, prepared.x_df, prepared.rank
    names = prepared.names
    y = prepared.y_df.iloc[:, 0].to_numpy(dtype=float)
    x = x_df.to_numpy(dtype=float)
    _check_outcome(y, family, prepared.y_df.columns[0])
    w_all = design.weights[used]
    w = w_all / w_all.mean()
    res, alpha, caught = _fit(y, x, w, family)
    beta = np.asarray(res.params, dtype=float)
    infl = _sandwich_influence(res, x, y, w)
    full = np.zeros((len(data), len(names)))
    full[used] = infl
    vcov = design.variance(full)
    df = design.df_in(used & (design.weights > 0)) - rank + 1
    q = t_quantile(df, level)
    terms = coefficient_table(names, beta, vcov, df, int(used.sum()), design, family, level)
    if family == "binomial":
        terms["odds_ratio"] = np.exp(beta)
        terms["or_ci_low"] = np.exp(terms["ci_low"])
        terms["or_ci_high"] = np.exp(terms["ci_high"])
        term_cols = {}
        for sl in x_df.design_info.term_slices.values():
            cols = list(range(sl.start, sl.stop))
            for c in cols:
                term_cols[names[c]] = cols
        ame, z = _ame(beta, x, w, infl, names, term_cols)
        zfull = np.zeros((len(data), len(names)))
        zfull[used] = z
        ame_se = np.sqrt(np.clip(np.diag(design.variance(zfull)), 0, None))
        ame_se[np.isnan(ame)] = np.nan
        terms["ame"] = ame
        terms["ame_se"] = ame_se
        terms["ame_ci_low"] = ame - q * ame_se
        terms["ame_ci_high"] = ame + q * ame_se
    elif family in ("poisson", "negbin"):
        terms["rate_ratio"] = np.exp(beta)
        terms["rr_ci_low"] = np.exp(terms["ci_low"])
        terms["rr_ci_high"] = np.exp(terms["ci_high"])
    card = model_card(
        formula,
        family,
        design,
        prepared,
        reference,
        domain,
        df,
        getattr(res, "converged", True),
        caught,
        alpha=alpha,
    )
    return terms, card
