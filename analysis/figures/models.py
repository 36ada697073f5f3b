"""One figure per fitted model: its terms with 95% CIs (odds or rate ratios where they apply)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.figures.draw import OKABE_ITO, house_style, save_figure

RATIO_COLUMNS = {
    "odds_ratio": ("or_ci_low", "or_ci_high", "Odds ratio"),
    "rate_ratio": ("rr_ci_low", "rr_ci_high", "Rate ratio"),
}


def _scale(terms: pd.DataFrame) -> tuple[str, str, str, str, float]:
    """Columns to plot: a ratio (log axis, reference 1) when the model has one, else the
    coefficient (reference 0)."""
    for column, (low, high, label) in RATIO_COLUMNS.items():
        if column in terms.columns and terms[column].notna().any():
            return column, low, high, label, 1.0
    return "estimate", "ci_low", "ci_high", "Coefficient", 0.0


def _modelled(terms: pd.DataFrame) -> str | None:
    """What a binomial model counts (``P(sch_wide = Yes)``), when the terms table says it."""
    if "modelled" not in terms.columns or terms["modelled"].isna().all():
        return None
    return str(terms["modelled"].dropna().iloc[0])


def model_terms_figure(terms: pd.DataFrame, title: str, base: Path) -> dict[str, Path]:
    """Forest plot of a model's terms (intercept and ordinal thresholds left out); a binomial
    model's title and alt text say which event it models."""
    modelled = _modelled(terms)
    named = f"{title} (modelled: {modelled})" if modelled else title
    shown = terms[(terms["term"] != "Intercept") & ~terms["term"].astype(str).str.contains(r"\|")]
    value, low, high, label, reference = _scale(shown)
    shown = shown.dropna(subset=[value]).iloc[::-1]
    with house_style():
        fig, ax = plt.subplots(figsize=(6.4, max(1.8, 0.42 * len(shown) + 1.0)))
        y = np.arange(len(shown))
        centre = shown[value].to_numpy(float)
        errors = [centre - shown[low].to_numpy(float), shown[high].to_numpy(float) - centre]
        ax.errorbar(centre, y, xerr=errors, fmt="o", color=OKABE_ITO[0], capsize=3)
        ax.axvline(reference, color=OKABE_ITO[3], linestyle="--", linewidth=1)
        ax.set_yticks(y)
        ax.set_yticklabels([str(t) for t in shown["term"]])
        if reference == 1.0:
            ax.set_xscale("log")
        ax.set_xlabel(f"{label} (95% CI)")
        ax.set_title(f"{title}\nmodelled: {modelled}" if modelled else title)
    described = "; ".join(
        f"{t} {v:.2f} ({lo:.2f} to {hi:.2f})"
        for t, v, lo, hi in zip(
            shown["term"].iloc[::-1],
            centre[::-1],
            shown[low].iloc[::-1],
            shown[high].iloc[::-1],
            strict=True,
        )
    )
    alt = f"Dot plot of the {label.lower()}s of the model '{named}' with 95% CIs: {described}."
    paths = save_figure(fig, base, alt)
    plt.close(fig)
    return paths
