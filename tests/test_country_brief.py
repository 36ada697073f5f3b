"""Country briefs: which countries get one (from the data), slugs, notes, and findings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import WpsInputError
from analysis.findings.book import SUPPRESSED
from analysis.findings.country import (
    country_note,
    plan_country_briefs,
    plan_entry,
    slugify,
)
from analysis.findings.declaration import load_declaration
from analysis.findings.declared import BriefRun, build_brief

DECLARATION = Path(__file__).resolve().parents[1] / "reports" / "country" / "numbers.yaml"

NOTE = "# {country}: no brief for {wave}\n{respondents} officers, fewer than {minimum}.\n"


def test_slugs() -> None:
    assert slugify("Lao PDR") == "lao-pdr"
    assert slugify("Viet Nam") == "viet-nam"
    assert slugify("  Côte d'Ivoire ") == "c-te-d-ivoire"
    assert slugify("7 Islands") == "country-7-islands"


def test_plan_splits_countries_by_respondents() -> None:
    clean = pd.DataFrame({"country_label": ["Lao PDR"] * 5 + ["Viet Nam"] * 2 + [None]})
    plan = plan_country_briefs(clean, dataset="officer_survey", wave="2025", min_respondents=3)
    assert plan["briefs"] == [{"country": "Lao PDR", "slug": "lao-pdr", "respondents": 5}]
    assert plan["notes"] == [{"country": "Viet Nam", "slug": "viet-nam", "respondents": 2}]
    assert plan_entry(plan, "viet-nam")["country"] == "Viet Nam"
    with pytest.raises(KeyError):
        plan_entry(plan, "atlantis")
    everyone = plan_country_briefs(clean, dataset="officer_survey", wave="2025", min_respondents=1)
    assert [e["slug"] for e in everyone["briefs"]] == ["lao-pdr", "viet-nam"]


def test_plan_refuses_colliding_slugs_and_missing_column() -> None:
    clean = pd.DataFrame({"country_label": ["Lao PDR", "Lao-PDR"]})
    with pytest.raises(WpsInputError, match="share the brief name 'lao-pdr'"):
        plan_country_briefs(clean, dataset="officer_survey", wave="2025", min_respondents=1)
    with pytest.raises(WpsInputError, match="no column 'country_label'"):
        plan_country_briefs(
            pd.DataFrame({"x": [1]}), dataset="officer_survey", wave="2025", min_respondents=1
        )


def test_a_missing_country_column_names_the_configured_dataset() -> None:
    """brief_dataset set to another survey: the error named 'officer_survey' (issue 12's
    'error that names the wrong dataset'); it names the configured dataset and its file."""
    clean_file = "results/clean/iris/fisher.parquet"
    with pytest.raises(WpsInputError) as caught:
        plan_country_briefs(
            pd.DataFrame({"Species": [1]}), dataset="iris", wave="fisher", min_respondents=1,
            file=clean_file,
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith(f"iris: {clean_file}: column 'country_label'")
    assert "officer_survey" not in message and "brief_dataset to null" in message


def test_note_withholds_small_counts() -> None:
    entry = {"country": "Viet Nam", "slug": "viet-nam", "respondents": 4}
    note = country_note(NOTE, entry, wave="2025", min_respondents=150, threshold=10)
    assert note.startswith("# Viet Nam: no brief for 2025")
    assert "fewer than 10 officers, fewer than 150." in note
    entry["respondents"] = 42
    assert "42 officers" in country_note(
        NOTE, entry, wave="2025", min_respondents=150, threshold=10
    )


def row(estimate_id, value, group_var, group_value, n=300, k=60):
    return {
        "estimate_id": estimate_id,
        "level": "1",
        "group_var": group_var,
        "group_value": group_value,
        "estimate": value,
        "se": 0.01,
        "ci_low": value - 0.02,
        "ci_high": value + 0.02,
        "n": n,
        "n_level": k,
    }


def estimates(shift: float = 0.0) -> pd.DataFrame:
    rows = [
        row("women_share", 0.20 + shift, "country_label", "Lao PDR"),
        row("women_share", 0.12, "(overall)", "(overall)", n=3000),
    ]
    for estimate_id in ("training_coverage", "harassment_prevalence", "report_safe"):
        rows += [
            row(estimate_id, 0.4 + shift, "country_label|women", "Lao PDR|1"),
            row(estimate_id, 0.3, "country_label|women", "Lao PDR|0"),
            row(estimate_id, 0.35, "women", "1"),
            row(estimate_id, 0.25, "women", "0"),
        ]
    rows += [
        row("intend_stay", 0.6, "country_label|women", "Lao PDR|1", n=40, k=4),  # suppressed
        row("intend_stay", 0.7, "country_label|women", "Lao PDR|0"),
        row("intend_stay", 0.67, "women", "1"),
        row("intend_stay", 0.78, "women", "0"),
    ]
    return pd.DataFrame(rows)


def build(tmp_path: Path, previous: bool = True):
    paths = {"estimates": str(tmp_path / "e.parquet")}
    estimates().to_parquet(paths["estimates"])
    if previous:
        paths["estimates_previous"] = str(tmp_path / "p.parquet")
        estimates(-0.05).to_parquet(paths["estimates_previous"])
    figures = {}
    for kind, ext in (("svg", "svg"), ("png", "png"), ("alt", "alt.txt")):
        path = tmp_path / f"women_by_country.{ext}"
        path.write_text("alt\n")
        figures[f"figure_women_by_country_{kind}"] = str(path)
    run = BriefRun(
        wave="2025", threshold=10, previous_wave="2023" if previous else None, figure_paths=figures
    )
    declaration = load_declaration(DECLARATION)
    book, title = build_brief(
        declaration, paths, run, brief="lao-pdr", parameters={"country": "Lao PDR"}
    )
    assert title.endswith(": Lao PDR, 2025")
    return book


def test_country_findings_quote_the_country_rows(tmp_path: Path) -> None:
    book = build(tmp_path)
    texts = {k: v["text"] for k, v in book.findings.items()}
    assert texts["country_name"] == "Lao PDR"
    assert texts["women_share"] == "20%"
    assert texts["women_share_region"] == "12%"
    assert texts["training_women"] == "40%"
    assert texts["training_women_region"] == "35%"
    assert texts["intend_stay_women"] == SUPPRESSED
    assert book.findings["harassment_men"]["source"]["row"]["group_value"] == "Lao PDR|0"
    table = book.tables["country_vs_region"]
    assert table["columns"] == ["Indicator", "Officers", "Lao PDR", "Region"]
    assert len(table["rows"]) == 9
    assert book.suppressed_cells == 2  # the finding and its table cell
    assert texts["change_summary"].startswith("Change since 2023: women's share of officers")


def test_first_wave_country_brief(tmp_path: Path) -> None:
    book = build(tmp_path, previous=False)
    assert "first wave" in book.findings["change_summary"]["text"]


def test_authored_note_template_has_every_field() -> None:
    template = (
        Path(__file__).resolve().parents[1] / "reports" / "country" / "text" / "country-note.md"
    )
    entry = {"country": "Viet Nam", "slug": "viet-nam", "respondents": 120}
    note = country_note(
        template.read_text("utf-8"), entry, wave="2025", min_respondents=150, threshold=10
    )
    assert "Viet Nam" in note and "120" in note and "150" in note and "{" not in note
