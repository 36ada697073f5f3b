"""Figures in the one house style (analysis/style/wps.mplstyle), saved byte-stable with alt text."""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.atomic import atomic_write  # noqa: E402

STYLE = Path(__file__).resolve().parents[1] / "style" / "wps.mplstyle"
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
SUPPRESSED_LABEL = "suppressed"
# Metadata that would otherwise carry the matplotlib version or a date into the files.
SVG_METADATA = {"Date": None, "Creator": None}
PNG_METADATA = {"Software": None}


def house_style() -> AbstractContextManager[None]:
    """Context manager applying the house style: `with house_style(): ...`."""
    return plt.style.context(str(STYLE))


def save_figure(fig: Figure, base: Path, alt: str) -> dict[str, Path]:
    """Write <base>.svg, <base>.png (200 dpi) and <base>.alt.txt; byte-stable across runs.

    Each file is written whole or not at all (analysis.atomic): a run killed while saving
    leaves the previous file or none, never a truncated one under the final name.
    """
    if not alt or not alt.strip():
        raise ValueError(f"{base}: every figure needs alt text describing what it shows.")
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = {
        "svg": base.with_name(base.name + ".svg"),
        "png": base.with_name(base.name + ".png"),
        "alt": base.with_name(base.name + ".alt.txt"),
    }
    text = alt.strip() + "\n"
    atomic_write(paths["alt"], lambda tmp: tmp.write_text(text, encoding="utf-8"))
    with plt.rc_context({"svg.hashsalt": "wps-evidence", "svg.fonttype": "path"}):
        atomic_write(
            paths["png"],
            lambda tmp: fig.savefig(tmp, format="png", dpi=200, metadata=PNG_METADATA),
        )
        atomic_write(
            paths["svg"], lambda tmp: fig.savefig(tmp, format="svg", metadata=SVG_METADATA)
        )
    return paths


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)


def bar_with_ci(
    table: pd.DataFrame,
    *,
    label: str = "group_value",
    estimate: str = "estimate",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    suppressed: str | None = "suppressed",
    percent: bool = True,
    xlabel: str = "",
    title: str = "",
    order: Sequence[str] | None = None,
    reference: float | None = None,
) -> Figure:
    """Horizontal bars with 95% CI error bars, one row per `label` (top to bottom in `order`,
    else as given). Rows flagged in `suppressed` (or with a missing estimate) show the word
    'suppressed' instead of a bar. `percent` treats proportions (0-1) as percentages."""
    for col in (label, estimate, lower, upper):
        if col not in table.columns:
            raise KeyError(f"bar_with_ci: column '{col}' not in table (has {list(table.columns)}).")
    data = table.copy()
    if order is not None:
        data = data.set_index(label).loc[list(order)].reset_index()
    scale = 100.0 if percent else 1.0
    n = len(data)
    with house_style():
        height = max(1.6, 0.3 * n + 0.9)
        fig, ax = plt.subplots(figsize=(6.4, height))
        ys = list(range(n))[::-1]
        hidden = (
            data[suppressed].fillna(False).astype(bool)
            if suppressed and suppressed in data.columns
            else pd.Series(False, index=data.index)
        )
        top = 0.0
        for y, (_, row), hide in zip(ys, data.iterrows(), hidden, strict=True):
            if hide or _is_missing(row[estimate]):
                ax.text(
                    0.002 * scale,
                    y,
                    SUPPRESSED_LABEL,
                    va="center",
                    ha="left",
                    fontsize=9.5,
                    style="italic",
                    color="#4D4D4D",
                )
                continue
            est = float(row[estimate]) * scale
            lo, hi = float(row[lower]) * scale, float(row[upper]) * scale
            ax.barh(y, est, height=0.66, color=OKABE_ITO[0], zorder=2)
            ax.errorbar(
                est,
                y,
                xerr=[[est - lo], [hi - est]],
                fmt="none",
                ecolor="#1A1A1A",
                elinewidth=1.1,
                capsize=3,
                zorder=3,
            )
            top = max(top, hi)
        ax.set_yticks(ys)
        ax.set_yticklabels([str(v) for v in data[label]])
        ax.set_xlim(0, max(top * 1.08, 0.1 * scale))
        if reference is not None:
            ax.axvline(reference * scale, color=OKABE_ITO[3], linestyle="--", linewidth=1, zorder=1)
        if percent:
            ax.xaxis.set_major_formatter(mticker.PercentFormatter(decimals=0))
        ax.tick_params(axis="y", length=0)
        if xlabel:
            ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
    return fig


def heatmap(
    matrix: pd.DataFrame,
    *,
    hidden: pd.DataFrame | None = None,
    title: str = "",
    colorbar_label: str = "",
) -> Figure:
    """A labelled square heat map of counts; cells in `hidden` show 'supp.' and no colour."""
    values = matrix.astype("Float64").to_numpy(dtype=float, na_value=float("nan"))
    mask = (
        hidden.reindex_like(matrix).fillna(False).to_numpy(dtype=bool)
        if hidden is not None
        else pd.isna(values)
    )
    shown = values.copy()
    shown[mask] = float("nan")
    n_rows, n_cols = shown.shape
    with house_style():
        fig, ax = plt.subplots(
            figsize=(max(4.8, 0.55 * n_cols + 2.4), max(3.6, 0.45 * n_rows + 1.6))
        )
        image = ax.imshow(shown, cmap="Blues", aspect="auto")
        ax.set_xticks(range(n_cols))
        ax.set_xticklabels([str(c) for c in matrix.columns], rotation=40, ha="right")
        ax.set_yticks(range(n_rows))
        ax.set_yticklabels([str(i) for i in matrix.index])
        top = float(pd.Series(shown.ravel()).max()) if n_rows and n_cols else 0.0
        for r in range(n_rows):
            for c in range(n_cols):
                if mask[r, c]:
                    text, colour = "supp.", "#4D4D4D"
                else:
                    value = shown[r, c]
                    text = f"{value:.0f}"
                    colour = "white" if top and value > 0.6 * top else "#1A1A1A"
                ax.text(c, r, text, ha="center", va="center", fontsize=8, color=colour)
        ax.grid(False)
        bar = fig.colorbar(image, ax=ax, shrink=0.8)
        if colorbar_label:
            bar.set_label(colorbar_label)
        if title:
            ax.set_title(title)
    return fig
