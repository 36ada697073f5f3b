"""Checks of the configuration against the analysis plan, before any rule runs.

A dataset's kind, the plan's entries and the brief settings must agree; where they do not,
the run stops with one message naming the setting and what to do, instead of a KeyError deep
in a job. Things that are allowed but worth knowing (a survey with no plan entry is only
cleaned) come back as notes for the console.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from analysis.errors import WpsInputError

CONFIG = "config/config.yaml"


def check_config(
    config: Mapping[str, Any],
    plan: Mapping[str, Any],
    waves: Mapping[str, Iterable[str]] | None = None,
) -> list[str]:
    """Raise WpsInputError for settings that cannot work; return notes worth printing.
    `waves` ({dataset: wave names found in its folder}) lets the plan's per-wave designs be
    checked against the waves that exist."""
    datasets: Mapping[str, Mapping[str, Any]] = config["datasets"]
    notes = []
    if waves is not None:
        check_wave_designs(config, plan, waves)
    for name in sorted(plan):
        if name not in datasets:
            notes.append(
                f"the analysis plan has an entry for '{name}', which config/config.yaml does "
                "not list under datasets: it is not used."
            )
    for name, spec in sorted(datasets.items()):
        if spec["kind"] == "survey" and name not in plan:
            notes.append(
                f"dataset '{name}' (kind survey) has no entry in the analysis plan: it is "
                "ingested, validated and cleaned only. Add an entry with its design, estimates "
                "and models to analyse it and get its brief."
            )
    brief = config.get("brief_dataset")
    if brief is None:
        return notes
    if brief not in datasets:
        raise WpsInputError(
            f"brief_dataset is '{brief}', which is not one of the datasets "
            f"({', '.join(sorted(datasets))})",
            file=CONFIG,
            hint="set brief_dataset to the officer survey the regional and country briefs are "
            "written for, or to null to make only each survey's default brief.",
        )
    if datasets[brief]["kind"] != "survey" or brief not in plan:
        raise WpsInputError(
            f"brief_dataset '{brief}' must be a survey dataset with an entry in the analysis "
            f"plan (it is of kind {datasets[brief]['kind']}"
            + ("" if brief in plan else ", with no plan entry")
            + ")",
            file=CONFIG,
            hint="set brief_dataset to the officer survey, or to null.",
        )
    return notes


def check_wave_designs(
    config: Mapping[str, Any], plan: Mapping[str, Any], waves: Mapping[str, Iterable[str]]
) -> None:
    """A design declared under `waves:` for a wave with no file is refused: a misspelt wave
    name would leave the real wave silently analysed with the dataset's design."""
    for dataset, entry in sorted(plan.items()):
        if dataset not in config["datasets"]:
            continue
        found = sorted(waves.get(dataset) or [])
        unknown = sorted(set(entry.get("waves") or {}) - set(found))
        if unknown:
            raise WpsInputError(
                f"the plan declares a design for wave(s) {', '.join(map(repr, unknown))} "
                f"(datasets.{dataset}.waves), but the dataset's folder has no such wave; its "
                f"waves are: {', '.join(found) or 'none'}",
                dataset=dataset,
                file=config.get("plan") or "config/plan.yaml",
                hint="a wave is named by its file (strat.csv is wave 'strat'): correct the "
                "name, or remove the entry until the wave's file is in the folder.",
            )
