"""The per-model figure: the terms it shows, on the right scale, with alt text from the numbers."""

from __future__ import annotations

import pandas as pd

from analysis.figures.models import model_terms_figure


def terms(**ratio) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "term": ["Intercept", "harassment", "women", "1|2"],
            "estimate": [1.1, -0.7, -0.4, -2.0],
            "ci_low": [0.9, -1.0, -0.7, -2.5],
            "ci_high": [1.3, -0.4, -0.1, -1.5],
        }
    )
    return frame.assign(**ratio)


def test_binary_model_is_drawn_as_odds_ratios(tmp_path):
    frame = terms(
        odds_ratio=[3.0, 0.5, 0.67, None],
        or_ci_low=[2.5, 0.37, 0.5, None],
        or_ci_high=[3.7, 0.67, 0.9, None],
    )
    paths = model_terms_figure(frame, "Stay", tmp_path / "stay")
    alt = paths["alt"].read_text(encoding="utf-8")
    assert "odds ratios" in alt and "harassment 0.50 (0.37 to 0.67)" in alt
    assert "Intercept" not in alt and "1|2" not in alt  # neither intercept nor thresholds
    assert paths["png"].stat().st_size > 1000


def test_gaussian_model_is_drawn_as_coefficients_and_is_byte_stable(tmp_path):
    first = model_terms_figure(terms(), "Attitude", tmp_path / "a")
    second = model_terms_figure(terms(), "Attitude", tmp_path / "b")
    assert "coefficients" in first["alt"].read_text(encoding="utf-8")
    for kind in ("svg", "png", "alt"):
        assert first[kind].read_bytes() == second[kind].read_bytes()
