"""The analysis plan: which design-based estimates and models to run for each dataset.

A plan is a YAML file checked against ``analysis/schemas/plan.schema.json``::

    datasets:
      officer_survey:
        design: {weight: weight, strata: stratum, psu: station_id, fpc: stations_in_stratum}
        estimates:
          - {id: women_share, variable: women, statistic: proportion, by: [country_label]}
        models:
          - {id: stay_logit, formula: "intend_stay_5y ~ harassment", family: binomial}
      schools:
        design: {weight: pw, strata: stype}
        derive:
          - {name: high_api, expr: "api00 > 743", label: "API above 743"}
        estimates:
          - {id: high_api_share, variable: high_api, statistic: proportion}

Model formulas must pass the whitelist grammar of :mod:`analysis.config.formula_grammar` and derived
variables the expression language of :mod:`analysis.config.plan_expressions`; both are checked here,
so a plan that tries to run code fails before any rule runs. Nothing in a plan is evaluated
as Python.

:func:`load_plan` returns ``{dataset: entry}`` with schema defaults filled in; an entry is what
:func:`analysis.survey.estimate.run_estimates` and :func:`analysis.survey.estimate.run_models` take.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from analysis.config.formula_grammar import FormulaError, check_formula
from analysis.config.plan_expressions import ExpressionError, check_derivations
from analysis.errors import WpsInputError

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "plan.schema.json"


class PlanError(WpsInputError):
    """An analysis plan that is malformed, named by file and entry."""


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _where(plan: dict, path: list) -> str:
    """``datasets.officer_survey.models[1] (id 'stay_logit').family`` for an error path."""
    parts: list[str] = []
    node: Any = plan
    entry_id = None
    for key in path:
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]"
        else:
            parts.append(str(key))
        node = node[key] if isinstance(node, dict | list) else None
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            entry_id = node["id"]
            parts[-1] += f" (id {entry_id!r})"
    return ".".join(parts) or "(top level)"


def _fill_defaults(plan: dict) -> dict:
    out = copy.deepcopy(plan)
    for entry in out["datasets"].values():
        entry.setdefault("waves", {})  # the schema requires every design's lonely_psu
        entry.setdefault("derive", [])
        entry.setdefault("estimates", [])
        entry.setdefault("models", [])
        for est in entry["estimates"]:
            est.setdefault("by", [])
            est.setdefault("overall", True)
            est.setdefault("title", est["id"])
        for model in entry["models"]:
            model.setdefault("reference", {})
            model.setdefault("title", model["id"])
    return out


def validate_plan(plan: Any, source: str = "<plan>") -> dict[str, dict]:
    """Check a parsed plan; return ``{dataset: entry}`` with defaults. Raises :class:`PlanError`."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(plan), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{_where(plan, list(e.absolute_path))}: {e.message}" for e in errors[:10]]
        raise PlanError(
            "the analysis plan does not match its schema:\n  " + "\n  ".join(lines),
            file=source,
            hint="correct these entries (schema: analysis/schemas/plan.schema.json)",
        )
    plan = _fill_defaults(plan)
    for name, entry in plan["datasets"].items():
        _check_unique_ids(name, entry, source)
        _check_formulas(name, entry, source)
        _check_derive(name, entry, source)
    return plan["datasets"]


def _check_unique_ids(name: str, entry: dict, source: str) -> None:
    seen: dict[str, str] = {}
    for kind in ("estimates", "models"):
        for i, item in enumerate(entry[kind]):
            where = f"datasets.{name}.{kind}[{i}] (id {item['id']!r})"
            if item["id"] in seen:
                raise PlanError(
                    f"{where}: id {item['id']!r} is already used by {seen[item['id']]}",
                    file=source,
                    hint="give every estimate and model of a dataset its own id",
                )
            seen[item["id"]] = where


def _check_formulas(name: str, entry: dict, source: str) -> None:
    """Every model formula passes the whitelist grammar (nothing is evaluated)."""
    for i, item in enumerate(entry["models"]):
        where = f"datasets.{name}.models[{i}] (id {item['id']!r})"
        try:
            check_formula(item["formula"], where=where)
        except FormulaError as exc:
            raise PlanError(exc.problem, file=source, hint=exc.hint) from exc


def _check_derive(name: str, entry: dict, source: str) -> None:
    """Every derived variable parses in the plan's expression language (nothing is run)."""
    try:
        check_derivations(entry["derive"], name)
    except ExpressionError as exc:
        raise PlanError(exc.problem, dataset=name, file=source, hint=exc.hint) from exc


def design_of(entry: Mapping[str, Any], wave: str) -> dict | str:
    """The design a wave was sampled with: its own under `waves:`, else the dataset's."""
    own = (entry.get("waves") or {}).get(wave)
    return own["design"] if own else entry["design"]


def load_plan(path: str | Path) -> dict[str, dict]:
    """Read and validate a YAML plan file; return ``{dataset: entry}``."""
    path = Path(path)
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PlanError("the analysis plan file does not exist", file=path) from exc
    except yaml.YAMLError as exc:
        raise PlanError(f"the analysis plan is not valid YAML: {exc}", file=path) from exc
    return validate_plan(plan, source=str(path))
