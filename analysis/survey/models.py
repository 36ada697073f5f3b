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
:func:`analysis.survey.ordinal.svy_ordinal` with the same preparation, sandwich and outputs.

A binomial model counts one named event, never silently the complement: a 0/1 outcome counts 1,
a logical one (``I(api00 > 743)``) True, and a text outcome with two levels the level the plan
names (``event: "Yes"``); without it the model is refused. The terms table and the card say
what is modelled (``modelled: P(sch_wide = Yes)``).

Average marginal effects (binomial) are per variable, on the row of its main-effect term: the
weighted mean of the change in predicted probability when the variable itself is shifted and
patsy rebuilds every column it enters (``x + I(x**2)``, ``x*z``): a central difference for a
continuous variable, 0 -> 1 for a 0/1 variable, reference -> level for a factor. Their SEs are
by linearisation (units' sampling plus the coefficients' influence times the AME's gradient).

The card's ``term_tests`` answer "is this term associated with the outcome at all?": the Wald
F test of all the term's columns, on (columns, df) degrees of freedom, as R ``regTermTest``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import patsy

from analysis.config.formula_grammar import FormulaError, check_formula, safe_eval_env
from analysis.survey.design import UNWEIGHTED, DesignError, SurveyDesign, domain_mask

if TYPE_CHECKING:  # statsmodels and scipy.stats load when a model is fitted (slow imports)
    from statsmodels.genmod.families import Family

FAMILIES = ("gaussian", "binomial", "poisson", "negbin", "ordinal")
LINKS = {"gaussian": "identity", "binomial": "logit", "ordinal": "logit"}


def _family(name: str, alpha: float = 1.0) -> Family:
    # the modules themselves, not statsmodels.api, which loads every model statsmodels has
    from statsmodels.genmod import families

    if name == "gaussian":
        return families.Gaussian()
    if name == "binomial":
        return families.Binomial()
    if name == "poisson":
        return families.Poisson()
    return families.NegativeBinomial(alpha=alpha)


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
    from statsmodels.genmod.generalized_linear_model import GLM

    caught: list[str] = []
    alpha = None
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        if family == "negbin":
            res = GLM(y, x, family=_family("poisson"), var_weights=w).fit()
            for _ in range(25):
                mu = res.fittedvalues
                new = max(float((w * ((y - mu) ** 2 - y)).sum() / (w * mu**2).sum()), 1e-8)
                start = res.params
                res = GLM(y, x, family=_family("negbin", new), var_weights=w).fit(
                    start_params=start
                )
                done = alpha is not None and abs(new - alpha) < 1e-8 * max(1.0, alpha)
                alpha = new
                if done:
                    break
        else:
            res = GLM(y, x, family=_family(family), var_weights=w).fit()
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


@dataclass(frozen=True)
class BinaryOutcome:
    """A binomial outcome as 0/1 with the level counted as the event, named for readers."""

    y: np.ndarray
    event: object
    modelled: str  # e.g. "P(sch_wide = Yes)"


def _same_level(level: object, event: object) -> bool:
    """Does a plan's ``event:`` value name this outcome level (1 == 1.0 == "1" == True)?"""
    if isinstance(level, bool | np.bool_):
        level = int(level)
        if isinstance(event, str) and event.lower() in ("true", "false"):
            event = event.lower() == "true"
    if isinstance(event, bool):
        event = int(event)
    if str(level) == str(event):
        return True
    try:
        return float(level) == float(event)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _bare(name: str) -> str:
    """``I(api00 > 743)`` -> ``api00 > 743`` (patsy's identity wrapper left out for readers)."""
    return name[2:-1] if name.startswith("I(") and name.endswith(")") else name


def _outcome_levels(y_df: pd.DataFrame) -> tuple[str, tuple | None]:
    """The outcome's name and, when patsy expanded it into indicator columns, its levels."""
    info = y_df.design_info
    name = info.term_names[0] if info.term_names else str(y_df.columns[0])
    factors = [f for term in info.terms for f in term.factors]
    if len(factors) == 1 and info.factor_infos[factors[0]].type == "categorical":
        return name, tuple(info.factor_infos[factors[0]].categories)
    return name, None


def binary_outcome(y_df: pd.DataFrame, event: object | None) -> BinaryOutcome:
    """The 0/1 outcome of a binomial model, counting ``event`` (or the unambiguous level).

    Unambiguous without ``event``: a 0/1 numeric outcome (event 1) and a logical one such as
    ``I(api00 > 743)`` (event True). Text outcomes with two levels need the plan to name the
    event (``event: "Yes"``); anything else is refused, never silently modelled as the
    complement.
    """
    name, levels = _outcome_levels(y_df)
    if levels is None:
        y = y_df.iloc[:, 0].to_numpy(dtype=float)
        _check_outcome(y, "binomial", name)
        if event is None or _same_level(1, event):
            return BinaryOutcome(y, 1, f"P({name} = 1)")
        if _same_level(0, event):
            return BinaryOutcome(1.0 - y, 0, f"P({name} = 0)")
        raise DesignError(
            f"binomial outcome {name!r} is 0/1 but the model's event is {event!r}; "
            "set `event: 1` (or 0) in the plan, or leave it out to model P({name} = 1)"
        )
    shown = [str(v) for v in levels]
    logical = set(levels) <= {False, True}
    if len(levels) > 2:
        raise DesignError(
            f"binomial outcome {name!r} has {len(levels)} levels {shown}; a binomial model needs "
            "two: recode it to two levels (or use family: ordinal for ordered categories)"
        )
    if event is None and logical:
        event = True
    if event is None:
        raise DesignError(
            f"binomial outcome {name!r} has the text levels {shown} and the model does not say "
            f"which one is the event: add `event:` to the model in the plan (e.g. "
            f"`event: {shown[-1]!r}` to model P({name} = {shown[-1]}))"
        )
    matches = [i for i, level in enumerate(levels) if _same_level(level, event)]
    if not matches:
        raise DesignError(
            f"the event {event!r} given for binomial outcome {name!r} is none of its levels "
            f"{shown} in the analysed rows; set `event:` to one of them"
        )
    level = levels[matches[0]]
    y = y_df.iloc[:, matches[0]].to_numpy(dtype=float)
    if logical:
        modelled = f"P({_bare(name)})" if level else f"P(not ({_bare(name)}))"
    else:
        modelled = f"P({name} = {level})"
    return BinaryOutcome(y, level, modelled)


@dataclass(frozen=True)
class AmeContrast:
    """One average marginal effect: the row it is reported on and the two shifted frames.

    The unit-level effect is ``(p(high) - p(low)) / step``: a central difference in a
    continuous variable (``step = 2h``), or the discrete change between two levels (``step=1``).
    """

    row: int
    high: pd.DataFrame
    low: pd.DataFrame
    step: float


def _main_columns(info, variable: str, columns: list[str]) -> tuple[slice, bool] | None:
    """Columns of the term that is ``variable`` alone (``x``, ``C(x)``), and if categorical."""
    for term, sl in info.term_slices.items():
        if len(term.factors) != 1:
            continue
        factor = term.factors[0]
        if formula_variables(factor.name(), columns) != [variable]:
            continue
        categorical = info.factor_infos[factor].type == "categorical"
        if categorical or term.name() == variable:
            return sl, categorical
    return None


def _with(frame: pd.DataFrame, variable: str, values) -> pd.DataFrame:
    """A copy of the model frame with one variable replaced (categoricals keep their levels)."""
    out = frame.copy()
    if isinstance(frame[variable].dtype, pd.CategoricalDtype):
        cats = frame[variable].cat.categories
        out[variable] = pd.Categorical([values] * len(frame), categories=cats)
    else:
        out[variable] = values
    return out


def ame_contrasts(info, frame: pd.DataFrame, names: list[str]) -> list[AmeContrast]:
    """The average marginal effects a model reports, each on the row of its main-effect term.

    Every right-hand variable with a term of its own gets one: a continuous variable the
    derivative of the prediction through every column it enters (``x + I(x**2)``, ``x*z``),
    a 0/1 variable the change 0 -> 1, and a categorical variable (treatment coding) the
    change from the reference to each level. Rows of other terms carry no AME.
    """
    columns = list(map(str, frame.columns))
    variables: list[str] = []
    for term in info.terms:
        for factor in term.factors:
            variables += [
                v for v in formula_variables(factor.name(), columns) if v not in variables
            ]
    out: list[AmeContrast] = []
    for variable in variables:
        found = _main_columns(info, variable, columns)
        if found is None:
            continue
        sl, categorical = found
        if categorical:
            out += _level_contrasts(frame, variable, names, sl)
            continue
        x = frame[variable].to_numpy(dtype=float)
        if np.isin(x, (0.0, 1.0)).all():
            out.append(
                AmeContrast(sl.start, _with(frame, variable, 1.0), _with(frame, variable, 0.0), 1.0)
            )
            continue
        h = 1e-5 * (float(np.std(x)) or 1.0)
        out.append(
            AmeContrast(
                sl.start, _with(frame, variable, x + h), _with(frame, variable, x - h), 2 * h
            )
        )
    return out


def _level_contrasts(
    frame: pd.DataFrame, variable: str, names: list[str], sl: slice
) -> list[AmeContrast]:
    """Reference -> level changes for the treatment-coded columns ``v[T.level]`` of a factor."""
    levels = {str(c): c for c in frame[variable].cat.categories}
    coded = {}
    for j in range(sl.start, sl.stop):
        match = re.search(r"\[T\.(.*)\]$", names[j])
        if match is None or match.group(1) not in levels:
            return []  # not treatment coding: no reference level to compare with
        coded[j] = levels[match.group(1)]
    rest = [c for c in levels.values() if c not in coded.values()]
    if len(rest) != 1:
        return []
    low = _with(frame, variable, rest[0])
    return [AmeContrast(j, _with(frame, variable, level), low, 1.0) for j, level in coded.items()]


def _ame(
    beta, info, contrasts: list[AmeContrast], w, infl, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Average marginal effects of a logit model on their rows, and their per-row influence.

    The estimate is the weighted mean of the unit-level effects; its influence adds the
    sampling of the units (``w (g - ame) / sum w``) and that of the coefficients (the
    coefficients' influence times the gradient of the AME in ``beta``).
    """

    def prob(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        m = np.asarray(patsy.build_design_matrices([info], frame)[0], dtype=float)
        return 1 / (1 + np.exp(-(m @ beta))), m

    wsum = w.sum()
    est = np.full(n_cols, np.nan)
    z = np.zeros((len(w), n_cols))
    for c in contrasts:
        (p1, x1), (p0, x0) = prob(c.high), prob(c.low)
        g = (p1 - p0) / c.step
        grad = ((p1 * (1 - p1))[:, None] * x1 - (p0 * (1 - p0))[:, None] * x0) / c.step
        est[c.row] = float((w * g).sum() / wsum)
        dgrad = (w[:, None] * grad).sum(axis=0) / wsum
        z[:, c.row] = w * (g - est[c.row]) / wsum + infl @ dgrad
    return est, z


def term_tests(
    terms: Mapping[str, slice], beta: np.ndarray, vcov: np.ndarray, df: int
) -> pd.DataFrame:
    """Wald F test of each term (all its columns zero), as R ``regTermTest(fit, ~term)``.

    ``F = b' V^-1 b / k`` on ``k`` (the term's columns) and ``df`` (the model's residual
    degrees of freedom, R's default) degrees of freedom. The intercept is not tested.
    """
    from scipy import stats

    rows = []
    for term, sl in terms.items():
        if term == "Intercept":
            continue
        b, v = beta[sl], vcov[sl, sl]
        k = sl.stop - sl.start
        try:
            f = float(b @ np.linalg.solve(v, b)) / k
        except np.linalg.LinAlgError:
            f = np.nan
        p = float(stats.f.sf(f, k, df)) if df > 0 and np.isfinite(f) else np.nan
        rows.append(
            {
                "term": term,
                "question": f"Is {term} associated with the outcome at all?",
                "F": f,
                "df_num": k,
                "df_den": int(df),
                "p": p,
            }
        )
    return pd.DataFrame(rows, columns=["term", "question", "F", "df_num", "df_den", "p"])


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
    frame: pd.DataFrame | None = None  # the analysed rows as patsy saw them (for predictions)

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
    columns = [str(c) for c in data.columns if c != UNWEIGHTED]
    try:  # defence in depth: only a formula inside the grammar reaches patsy
        check_formula(formula, columns)
    except FormulaError as exc:
        raise DesignError(exc.problem, hint=exc.hint) from exc
    variables = formula_variables(formula, columns)
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
        y_df, x_df = patsy.dmatrices(
            formula, frame, eval_env=safe_eval_env(), return_type="dataframe", NA_action="raise"
        )
    except patsy.PatsyError as exc:
        raise DesignError(f"cannot build the model matrix for {formula!r}: {exc}") from exc
    x = x_df.to_numpy(dtype=float)
    rank = int(np.linalg.matrix_rank(x))
    if rank < x.shape[1]:
        raise DesignError(
            f"model {formula!r}: the design matrix is rank deficient ({rank} < {x.shape[1]} "
            f"columns: {list(x_df.columns)}); drop or merge collinear terms or empty levels"
        )
    return PreparedModel(variables, in_domain, used, dropped_by_var, y_df, x_df, rank, frame)


def t_quantile(df: int, level: float = 0.95) -> float:
    from scipy import stats

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
    from scipy import stats

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


def _outcome(prepared: PreparedModel, family: str, event: object | None) -> BinaryOutcome | None:
    """The binomial outcome with its event (None for other families, whose outcome is numeric)."""
    if family == "binomial":
        return binary_outcome(prepared.y_df, event)
    name, levels = _outcome_levels(prepared.y_df)
    if event is not None:
        raise DesignError(f"`event:` applies to binomial models only, not family {family!r}")
    if levels is not None:
        raise DesignError(
            f"outcome {name!r} is not numeric (levels {[str(v) for v in levels]}); family "
            f"{family!r} needs a number: recode it, or use family: binomial with `event:`"
        )
    return None


def _binomial_columns(
    terms: pd.DataFrame,
    prepared: PreparedModel,
    beta: np.ndarray,
    w: np.ndarray,
    infl: np.ndarray,
    design: SurveyDesign,
    q: float,
) -> None:
    """Odds ratios and average marginal effects (with design SEs) added to a logit's terms."""
    terms["odds_ratio"] = np.exp(beta)
    terms["or_ci_low"] = np.exp(terms["ci_low"])
    terms["or_ci_high"] = np.exp(terms["ci_high"])
    info = prepared.x_df.design_info
    contrasts = ame_contrasts(info, prepared.frame, prepared.names)
    ame, z = _ame(beta, info, contrasts, w, infl, len(beta))
    zfull = np.zeros((len(design.data), len(beta)))
    zfull[prepared.used] = z
    ame_se = np.sqrt(np.clip(np.diag(design.variance(zfull)), 0, None))
    ame_se[np.isnan(ame)] = np.nan
    terms["ame"] = ame
    terms["ame_se"] = ame_se
    terms["ame_ci_low"] = ame - q * ame_se
    terms["ame_ci_high"] = ame + q * ame_se


def svy_glm(
    formula: str,
    design: SurveyDesign,
    family: str = "gaussian",
    reference: Mapping[str, object] | None = None,
    domain: Mapping[str, Sequence] | None = None,
    level: float = 0.95,
    event: object | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Fit a design-based GLM (or, ``family="ordinal"``, a proportional-odds model); return
    the tidy terms table and a model card.

    ``event`` names the outcome level a binomial model counts (see :func:`binary_outcome`);
    the terms table and the card say what is modelled (``modelled: P(sch_wide = Yes)``). The
    card's ``term_tests`` hold a Wald F test per term (:func:`term_tests`).
    """
    if family not in FAMILIES:
        raise DesignError(f"family must be one of {FAMILIES}, not {family!r}")
    if family == "ordinal":
        if event is not None:
            raise DesignError("`event:` applies to binomial models only, not family 'ordinal'")
        from analysis.survey.ordinal import svy_ordinal

        return svy_ordinal(formula, design, reference=reference, domain=domain, level=level)
    reference = dict(reference or {})
    data = design.data
    prepared = prepare_model(formula, design, reference, domain)
    used, x_df, rank = prepared.used, prepared.x_df, prepared.rank
    names = prepared.names
    outcome = _outcome(prepared, family, event)
    if outcome is None:
        y = prepared.y_df.iloc[:, 0].to_numpy(dtype=float)
        _check_outcome(y, family, prepared.y_df.columns[0])
    else:
        y = outcome.y
    x = x_df.to_numpy(dtype=float)
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
    if outcome is not None:
        terms["modelled"] = outcome.modelled
        _binomial_columns(terms, prepared, beta, w, infl, design, q)
    elif family in ("poisson", "negbin"):
        terms["rate_ratio"] = np.exp(beta)
        terms["rr_ci_low"] = np.exp(terms["ci_low"])
        terms["rr_ci_high"] = np.exp(terms["ci_high"])
    slices = {term.name(): sl for term, sl in x_df.design_info.term_slices.items()}
    tests = term_tests(slices, beta, vcov, df)
    extra: dict = {"alpha": alpha}
    if outcome is not None:
        extra = {"modelled": outcome.modelled, "event": _plain(outcome.event), **extra}
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
        **extra,
        term_tests=tests.astype(object).where(tests.notna(), None).to_dict(orient="records"),
    )
    return terms, card


def _plain(value: object) -> object:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if isinstance(value, np.generic) else value
