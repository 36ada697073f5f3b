"""Run a dataset's analysis plan entry: stacked estimates and fitted models.

``run_estimates`` returns one tidy table for all estimates of the entry. Each row names its
breakdown as ``group_var`` / ``group_value`` (``(overall)`` for the whole population; crossed
breakdowns join columns and values with ``|``). Levels and group values are strings so the
table has one type per column.

``df`` is the degrees of freedom of the row's domain (R's ``degf(subset(design, domain))``, as
``svyciprop`` uses) and ``lonely_strata`` counts the strata with a single sampled unit that
the row's domain touches: a row with ``lonely_strata > 0`` rests on the plan's ``lonely_psu``
rule and should be flagged wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import pandas as pd

from analysis.config.plan_expressions import apply_derivations
from analysis.survey.calibrate import calibrate_from_plan
from analysis.survey.design import (
    DEFAULT_LONELY_PSU,
    OVERALL,
    UNWEIGHTED,
    DesignError,
    SurveyDesign,
    svy_mean,
    svy_proportion,
    svy_total,
)
from analysis.survey.models import svy_glm
from analysis.survey.ratio_quantile import statistic_function
from analysis.survey.replicate import ReplicateDesign, replicate_from_plan
from analysis.tables import level_text

STATISTICS = {"mean": svy_mean, "proportion": svy_proportion, "total": svy_total}
COLUMNS = [
    "estimate_id",
    "title",
    "variable",
    "statistic",
    "level",
    "group_var",
    "group_value",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "n_level",
    "lonely_strata",
    "design",
    "variance",  # the variance estimator, in words, for a methods box
]


NO_DESIGN = "none"


def make_design(data: pd.DataFrame, plan_entry: Mapping, dataset: str = "") -> SurveyDesign:
    """The survey design an entry's ``design`` block declares, over the data with the entry's
    derived variables (``derive``) added: the one place estimates and models get them.

    ``design: none`` (data with no survey design) gives unweighted estimates: every respondent
    weighs 1, one stratum, each respondent their own PSU, as R's ``svydesign(ids = ~1)``
    without weights; tables name the design ``weight=unweighted (...)``."""
    spec = plan_entry["design"]
    data = apply_derivations(data, plan_entry, dataset)
    if spec == NO_DESIGN:
        data = data.assign(**{UNWEIGHTED: 1.0})
        return SurveyDesign(data, weight=UNWEIGHTED, lonely_psu="fail", dataset=dataset)
    if "replicate" in spec:
        design = replicate_from_plan(data, spec, dataset)
    else:
        design = SurveyDesign(
            data,
            weight=spec["weight"],
            strata=spec.get("strata"),
            psu=spec.get("psu"),
            fpc=spec.get("fpc"),
            lonely_psu=spec.get("lonely_psu", DEFAULT_LONELY_PSU),
            dataset=dataset,
        )
    if "calibration" in spec:
        design = calibrate_from_plan(design, spec["calibration"])
    return design


def _breakdowns(spec: Mapping) -> list[list[str]]:
    out: list[list[str]] = [[]] if spec.get("overall", True) else []
    for item in spec.get("by", []):
        out.append([item] if isinstance(item, str) else list(item))
    return out


def _one_estimate(design: SurveyDesign, spec: Mapping) -> pd.DataFrame:
    func = statistic_function(design, spec) or partial(
        STATISTICS[spec["statistic"]], variable=spec["variable"]
    )
    parts = []
    for cols in _breakdowns(spec):
        res = func(design, by=cols or None, domain=spec.get("domain"))
        if cols:
            res["group_var"] = "|".join(cols)
            res["group_value"] = [
                "|".join(level_text(v) for v in row)
                for row in res[cols].itertuples(index=False, name=None)
            ]
            res = res.drop(columns=cols)
        else:
            res["group_var"] = OVERALL
            res["group_value"] = OVERALL
        parts.append(res)
    out = pd.concat(parts, ignore_index=True)
    out["estimate_id"] = spec["id"]
    out["title"] = spec.get("title", spec["id"])
    out["statistic"] = spec["statistic"]
    if "level" not in out.columns:
        out["level"] = pd.NA
        out["n_level"] = pd.NA
    else:
        out["level"] = out["level"].map(level_text)
    return out


def _reraise(exc: DesignError, what: str, dataset: str) -> DesignError:
    """The same error, prefixed with the plan entry it came from (and where to correct it)."""
    problem = exc.problem.removeprefix(f"dataset {dataset!r}: ")
    hint = exc.hint or f"correct {what} under datasets.{dataset} in the analysis plan."
    return DesignError(f"{what}: {problem}", dataset=dataset, hint=hint)


def run_estimates(data: pd.DataFrame, plan_entry: Mapping, dataset: str = "") -> pd.DataFrame:
    """All estimates of a plan entry, stacked in plan order, with the columns in ``COLUMNS``."""
    design = make_design(data, plan_entry, dataset)
    tables = []
    for spec in plan_entry.get("estimates", []):
        try:
            tables.append(_one_estimate(design, spec))
        except DesignError as exc:
            raise _reraise(exc, f"estimate {spec['id']!r}", dataset) from exc
    if not tables:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(tables, ignore_index=True)
    out["variance"] = design.variance_method
    out = out[COLUMNS]
    return out.astype(
        {
            "level": "string",
            "group_var": "string",
            "group_value": "string",
            "n_level": "Int64",
            "df": "int64",
            "n": "int64",
            "lonely_strata": "int64",
        }
    )


def run_models(
    data: pd.DataFrame, plan_entry: Mapping, dataset: str = ""
) -> dict[str, tuple[pd.DataFrame, dict]]:
    """Fit every model of a plan entry: ``{model_id: (terms, card)}`` in plan order."""
    design = make_design(data, plan_entry, dataset)
    if isinstance(design, ReplicateDesign) and plan_entry.get("models"):
        raise DesignError(
            "models are not fitted on replicate-weight designs yet (only estimates are)",
            dataset=dataset,
            hint="drop the models of this entry, or give the design's strata and PSUs instead",
        )
    out: dict[str, tuple[pd.DataFrame, dict]] = {}
    for spec in plan_entry.get("models", []):
        try:
            terms, card = svy_glm(
                spec["formula"],
                design,
                family=spec["family"],
                reference=spec.get("reference"),
                domain=spec.get("domain"),
                event=spec.get("event"),
            )
        except DesignError as exc:
            raise _reraise(exc, f"model {spec['id']!r}", dataset) from exc
        terms.insert(0, "model_id", spec["id"])
        card = {"id": spec["id"], "title": spec.get("title", spec["id"]), **card}
        out[spec["id"]] = (terms, card)
    return out
