"""The figures a wave's briefs show, drawn from already-protected tables in the house style."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from analysis.figures.draw import bar_with_ci, heatmap, save_figure
from analysis.findings.book import protect_for_brief

MARGIN = "Total"
# Width x height (inches) of each brief figure: wide and low, so a 2-4 page brief has room.
SIZES = {
    "women_by_country": (7.2, 3.2),
    "training_gain": (7.2, 2.2),
    "code_cooccurrence": (8.4, 4.6),
}


def fit(fig: Figure, name: str) -> None:
    """Give a figure its brief size (constrained layout re-flows the labels)."""
    fig.set_size_inches(*SIZES[name])


def women_by_country(estimates: pd.DataFrame, base: Path, threshold: int) -> dict[str, Path]:
    """Share of women by country, with 95% CIs; small cells are shown as suppressed."""
    table = protect_for_brief(estimates, threshold)
    rows = table[
        (table["estimate_id"] == "women_share")
        & (table["group_var"] == "country_label")
        & (table["level"] == "1")
    ].sort_values("estimate", ascending=False, kind="stable", na_position="last")
    fig = bar_with_ci(rows, lower="ci_low", upper="ci_high", xlabel="Women among officers")
    shown = ", ".join(
        f"{r.group_value} {'suppressed' if pd.isna(r.estimate) else f'{100 * r.estimate:.0f}%'}"
        for r in rows.itertuples()
    )
    alt = f"Bar chart of the share of women among officers surveyed, by country: {shown}."
    fit(fig, "women_by_country")
    paths = save_figure(fig, base, alt)
    plt.close(fig)
    return paths


def training_gain(prepost: pd.DataFrame, base: Path) -> dict[str, Path]:
    """Mean knowledge-test gain (points out of 20) by training module, with 95% CIs."""
    rows = prepost[(prepost["statistic"] == "gain") & (prepost["group"] == "module_label")]
    rows = rows.assign(label=rows["module_label"])
    fig = bar_with_ci(
        rows,
        label="label",
        lower="ci_low",
        upper="ci_high",
        suppressed=None,
        percent=False,
        xlabel="Mean gain in test score (points out of 20)",
    )
    shown = ", ".join(f"{r.label} +{r.estimate:.1f}" for r in rows.itertuples())
    alt = f"Bar chart of the mean knowledge-test gain after the pilot training, by module: {shown}."
    fit(fig, "training_gain")
    paths = save_figure(fig, base, alt)
    plt.close(fig)
    return paths


def theme_cooccurrence(protected: pd.DataFrame, base: Path) -> dict[str, Path]:
    """Heat map of interviews in which two themes were both raised (small counts suppressed)."""
    matrix = protected.set_index(protected.columns[0])
    matrix = matrix.drop(index=MARGIN, columns=MARGIN, errors="ignore")
    matrix.index = [str(i).capitalize() for i in matrix.index]
    matrix.columns = [str(c).capitalize() for c in matrix.columns]
    fig = heatmap(matrix, colorbar_label="Interviews")
    fit(fig, "code_cooccurrence")
    strongest = (
        matrix.astype("Float64")
        .where(
            ~pd.DataFrame(
                [[i == c for c in matrix.columns] for i in matrix.index],
                index=matrix.index,
                columns=matrix.columns,
            )
        )
        .stack()
        .dropna()
        .sort_values(ascending=False, kind="stable")
    )
    pairs = "; ".join(f"{a} with {b} ({int(v)})" for (a, b), v in strongest.iloc[:6:2].items())
    alt = (
        "Heat map of how many interviews raised two themes together. Most frequent pairs: "
        f"{pairs}. Counts under the disclosure threshold are suppressed."
    )
    paths = save_figure(fig, base, alt)
    plt.close(fig)
    return paths
