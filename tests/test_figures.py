"""Tests for analysis.figures.draw: house style, byte-stable files, suppressed estimates."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from PIL import Image

from analysis.figures.draw import (
    OKABE_ITO,
    STYLE,
    SUPPRESSED_LABEL,
    bar_with_ci,
    house_style,
    save_figure,
)


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group_value": ["Cambodia", "Lao PDR", "Myanmar", "Thailand"],
            "estimate": [0.09, 0.20, None, 0.10],
            "ci_lower": [0.07, 0.16, None, 0.08],
            "ci_upper": [0.11, 0.24, None, 0.13],
            "suppressed": [False, False, True, False],
        }
    )


def test_style_uses_okabe_ito_and_fixed_svg_salt():
    with house_style():
        cycle = [c["color"].upper().lstrip("#") for c in plt.rcParams["axes.prop_cycle"]]
        assert plt.rcParams["svg.hashsalt"] == "wps-evidence"
        assert plt.rcParams["svg.fonttype"] == "path"
    assert cycle == [c.lstrip("#") for c in OKABE_ITO]
    assert STYLE.is_file()


def test_bar_with_ci_draws_bars_for_estimates_and_text_for_suppressed():
    fig = bar_with_ci(_table())
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [9.0, 10.0, 20.0]  # percentages; Myanmar has no bar
    texts = [t.get_text() for t in ax.texts]
    assert texts == [SUPPRESSED_LABEL]
    ticks = sorted(ax.get_yticklabels(), key=lambda t: t.get_position()[1])
    labels = [t.get_text() for t in ticks]
    assert labels == ["Thailand", "Myanmar", "Lao PDR", "Cambodia"]  # bottom to top
    # error bars span the CI
    segs = [seg for coll in ax.collections for seg in coll.get_segments()]
    spans = sorted(round(abs(s[1][0] - s[0][0]), 6) for s in segs if len(s) == 2)
    assert spans == [4.0, 5.0, 8.0]
    plt.close(fig)


def test_bar_with_ci_names_a_missing_column():
    with pytest.raises(KeyError, match="ci_upper"):
        bar_with_ci(_table().drop(columns="ci_upper"))


def test_save_figure_is_byte_stable_and_writes_alt(tmp_path: Path):
    outs = []
    for run in ("a", "b"):
        fig = bar_with_ci(_table(), xlabel="Women (%)")
        outs.append(save_figure(fig, tmp_path / run / "women", "Bar chart of women by country."))
        plt.close(fig)
    for kind in ("svg", "png", "alt"):
        assert outs[0][kind].read_bytes() == outs[1][kind].read_bytes(), kind
    svg = outs[0]["svg"].read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and not re.search(r"Matplotlib v\d", svg)
    png = Image.open(outs[0]["png"])
    assert "Software" not in png.info
    assert png.size[0] >= 1200  # 6.4 in at 200 dpi
    assert outs[0]["alt"].read_text(encoding="utf-8") == "Bar chart of women by country.\n"


def test_save_figure_requires_alt_text(tmp_path: Path):
    fig = bar_with_ci(_table())
    with pytest.raises(ValueError, match="alt text"):
        save_figure(fig, tmp_path / "x", "  ")
    plt.close(fig)
