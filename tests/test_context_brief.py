"""The regional brief's context section: tidy ASEAN tables from the official statistics, the
findings quoted from them (ranges where "<5" cells are censored), and the section's absence
when nothing is configured. A small synthetic GLOTIP-shaped table tests the logic; the real
UNODC and UNSD files (shared reference data, not shipped) are read once for the real-file test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_regional_brief import figure_paths, regional, write_tables

from analysis.context import asean_female_police, asean_victims, read_female_police, read_glotip
from analysis.context.unodc import KNOWN_SEXES, VICTIMS, composition, regional_totals
from analysis.findings.book import FindingsBook
from analysis.findings.context import (
    CONTEXT_TABLES,
    SECTION,
    ContextFindings,
    count_range,
    percent_bounds,
    tidy_glotip_exploitation,
    tidy_glotip_victims,
    tidy_tables,
)
from analysis.tables import write_csv

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "reports" / "regional" / "text" / "context.md"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data"
GLOTIP = REFERENCE / "trafficking" / "unodc_glotip_data_2025-04-14.xlsx"
POLICE = REFERENCE / "women_police" / "unstats_share_female_police_IV4.tsv"
SOURCE = "UNODC GLOTIP data, published 2025-04-14 (synthetic.xlsx)"


def cell(iso3, sex, age, value, *, year=2022, dimension="Total", form=None):
    """One row as read_glotip returns it; value '<5' is censored to 0-4."""
    low, high, censored = (0.0, 4.0, True) if value == "<5" else (value, value, False)
    return {
        "country": iso3,
        "iso3": iso3,
        "region": "Asia",
        "subregion": "South-eastern Asia",
        "indicator": VICTIMS,
        "dimension": dimension,
        "category": form or "Total",
        "form_of_exploitation": form,
        "sex": sex,
        "age_group": age,
        "year": year,
        "unit": "Counts",
        "value_text": str(value),
        "value_low": float(low),
        "value_high": float(high),
        "censored": censored,
        "source": SOURCE,
        "sheet_row": 0,
    }


def synthetic_glotip() -> pd.DataFrame:
    """Thailand 10, Myanmar 20 and Cambodia '<5' victims in 2022 (total 30-34); an older year."""
    forms = "by form of exploitation"
    rows = [
        cell("THA", "Total", "Total", 10),
        cell("THA", "Female", "Total", 8),
        cell("THA", "Male", "Total", 2),
        cell("THA", "Total", "0 to 17 years", 3),
        cell("THA", "Total", "18 years or over", 7),
        cell("MMR", "Total", "Total", 20),
        cell("MMR", "Female", "Total", 12),
        cell("MMR", "Male", "Total", 8),
        cell("MMR", "Total", "0 to 17 years", 5),
        cell("MMR", "Total", "18 years or over", 15),
        cell("KHM", "Total", "Total", "<5"),
        cell("KHM", "Female", "Total", "<5"),
        cell("THA", "Total", "Total", 6, dimension=forms, form="Sexual exploitation"),
        cell("THA", "Total", "Total", 4, dimension=forms, form="Forced labour"),
        cell("MMR", "Total", "Total", 15, dimension=forms, form="Forced labour"),
        cell("MMR", "Total", "Total", "<5", dimension=forms, form="Sexual exploitation"),
        cell("THA", "Total", "Total", 99, year=2020),
    ]
    frame = pd.DataFrame(rows)
    frame.attrs["published"] = "2025-04-14"
    return frame


def police_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["Indonesia", "Singapore", "Singapore"],
            "iso3": ["IDN", "SGP", "SGP"],
            "m49": ["360", "702", "702"],
            "year": [2010, 2006, 2017],
            "share": [3.0, 15.0, 19.0],
            "is_latest": [True, False, True],
            "nature": "Country Data",
            "file_line": [2, 3, 4],
            "source": "UN Statistics Division IV.4 (UNODC UN-CTS, source year 2019) (f.tsv)",
        }
    )


def write_context(root: Path, glotip: pd.DataFrame | None, police: pd.DataFrame | None) -> dict:
    """The tidy tables as the workflow writes them, and the paths the findings step gets."""
    from analysis.findings.context import empty_table, tidy_female_police

    tables = {name: empty_table(name) for name in CONTEXT_TABLES}
    if glotip is not None:
        tables["glotip_victims"] = tidy_glotip_victims(glotip)
        tables["glotip_exploitation"] = tidy_glotip_exploitation(glotip)
    if police is not None:
        tables["female_police"] = tidy_female_police(police)
    paths = {}
    for name, frame in tables.items():
        write_csv(frame, root / f"{name}.csv")
        paths[f"context_{name}"] = str(root / f"{name}.csv")
    return {**paths, "context_template": str(TEMPLATE)}


def context_book(paths: dict) -> tuple[FindingsBook, str]:
    book = FindingsBook("regional", "2025", 10)
    return book, ContextFindings(book, paths).build()


def test_ranges_print_as_ranges_never_one_number() -> None:
    assert count_range(5087, 5091) == "5,087–5,091"
    assert count_range(423, 423) == "423"
    assert percent_bounds(59.4, 60.9) == "59–61%"
    assert percent_bounds(41.6, 42.4) == "42%"


def test_censored_cells_make_totals_and_shares_ranges(tmp_path: Path) -> None:
    book, section = context_book(write_context(tmp_path, synthetic_glotip(), police_table()))
    texts = {k: v["text"] for k, v in book.findings.items()}
    assert texts["context_victims_year"] == "2022"
    assert texts["context_victims_total"] == "30–34"  # 10 + 20 + '<5'
    assert book.findings["context_victims_total"]["value"] == [30.0, 34.0]
    assert (
        texts["context_victims_countries"] == "3 ASEAN countries (Cambodia, Myanmar and Thailand)"
    )
    # female 20 + (0-4) of known sex 30 + (0-4): from 20/30 to 24/34
    assert texts["context_share_female"] == "67–71%"
    assert texts["context_share_children"] == "27%"  # 8 of 30, no censored age cell
    assert texts["context_top_form"] == "forced labour"
    assert texts["context_top_form_share"] == "66–76%"  # 19 of 25-29
    assert "Myanmar and Thailand" in texts["context_top_form_basis"]
    assert (
        texts["context_police_latest"]
        == "Indonesia 3% (2010) and Singapore 19% (2017; 15% in 2006)"
    )
    assert texts["context_police_missing"] == "8"
    assert "published 14 April 2025" in texts["context_glotip_source"]
    assert "source year 2019" in texts["context_police_source"]
    assert section == book.sections[SECTION]["markdown"]
    assert section.startswith("## Official statistics for context")
    assert "30–34 detected victims" in section and "{{<" not in section and "<!--" not in section


def test_every_context_source_names_one_tidy_table_row(tmp_path: Path) -> None:
    book, _ = context_book(write_context(tmp_path, synthetic_glotip(), police_table()))
    for key, finding in book.findings.items():
        source = finding["source"]
        if "row" not in source:
            continue
        frame = pd.read_csv(source["table"])
        mask = pd.Series(True, index=frame.index)
        for column, value in source["row"].items():
            mask &= frame[column].astype(str) == str(value)
        assert mask.sum() == 1, key
        for column in source["column"].split(", "):
            assert column in frame.columns, (key, column)


def test_one_source_only_keeps_its_block(tmp_path: Path) -> None:
    _, section = context_book(write_context(tmp_path, None, police_table()))
    assert "Women's share of police officers" in section
    assert "detected victims" not in section


def test_without_config_no_context_findings_and_no_section(tmp_path: Path) -> None:
    book = regional(write_tables(tmp_path), figure_paths(tmp_path))
    context = {k: v for k, v in book.findings.items() if k.startswith("context_")}
    assert context == {}
    assert book.sections[SECTION] == {"markdown": "", "source": {"derived_from": []}}


def test_section_is_included_as_markdown_with_one_heading(tmp_path: Path) -> None:
    """The brief includes the section file: its heading is a real level-2 heading."""
    import json

    import pypandoc

    from analysis.render.quarto_md import resolve_shortcodes

    _, section = context_book(write_context(tmp_path, synthetic_glotip(), police_table()))
    (tmp_path / "_sections").mkdir()
    (tmp_path / "_sections" / "context.md").write_text(section, encoding="utf-8")
    qmd = tmp_path / "x.qmd"
    md = resolve_shortcodes(
        "Before.\n\n{{< include _sections/context.md >}}\n\nAfter.\n",
        source=qmd,
        project=tmp_path,
        variables={},
        meta={},
    )
    blocks = json.loads(pypandoc.convert_text(md, "json", format="markdown"))["blocks"]
    headers = [b for b in blocks if b["t"] == "Header"]
    assert len(headers) == 1 and headers[0]["c"][0] == 2


def test_rendered_brief_with_context_is_two_to_four_pages(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    from analysis.findings.book import to_yaml
    from analysis.findings.figures import theme_cooccurrence, training_gain, women_by_country
    from analysis.render import render_brief

    paths = write_tables(tmp_path)
    paths.update(write_context(tmp_path, synthetic_glotip(), police_table()))
    women_by_country(pd.read_parquet(paths["estimates"]), tmp_path / "women_by_country", 10)
    training_gain(pd.read_parquet(paths["prepost"]), tmp_path / "training_gain")
    theme_cooccurrence(
        pd.read_csv(paths["interviews_theme_cooccurrence"]), tmp_path / "code_cooccurrence"
    )
    figures = {}
    for name in ("women_by_country", "training_gain", "code_cooccurrence"):
        for kind, ext in (("svg", "svg"), ("png", "png"), ("alt", "alt.txt")):
            figures[f"figure_{name}_{kind}"] = str(tmp_path / f"{name}.{ext}")
    book = regional(paths, figures, quote_id="Q-0030")
    findings = tmp_path / "regional.yaml"
    findings.write_text(to_yaml(book.to_dict("Regional brief", 1748822400, {})), "utf-8")
    qmd = REPO / "reports" / "regional" / "regional.qmd"
    out = render_brief(qmd, findings, tmp_path / "out", ("pdf",), "pandoc", work_dir=tmp_path)
    reader = pypdf.PdfReader(out["pdf"])
    assert 2 <= len(reader.pages) <= 4
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Official statistics for context" in text and "30–34" in text


# -- the real files (shared reference data, not shipped) -----------------------------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict:
    """The real files read once: the tidy tables, the findings, and the readers' own output."""
    if not (GLOTIP.is_file() and POLICE.is_file()):
        pytest.skip(f"official statistics not found under {REFERENCE} (not shipped)")
    root = tmp_path_factory.mktemp("context")
    tables = tidy_tables(GLOTIP, POLICE)
    paths = {}
    for name, frame in tables.items():
        write_csv(frame, root / f"{name}.csv")
        paths[f"context_{name}"] = str(root / f"{name}.csv")
    book, section = context_book({**paths, "context_template": str(TEMPLATE)})
    glotip = read_glotip(GLOTIP)
    return {"book": book, "section": section, "glotip": glotip, "police": POLICE}


def test_real_files_give_the_readers_numbers(real: dict) -> None:
    findings = real["book"].findings
    totals = regional_totals(asean_victims(real["glotip"]))
    everyone = totals[(totals["sex"] == "Total") & (totals["age_group"] == "Total")]
    latest = everyone.dropna(subset=["value_high"]).sort_values("year").iloc[-1]
    assert findings["context_victims_year"]["text"] == str(int(latest["year"]))
    low, high = float(latest["value_low"]), float(latest["value_high"])
    assert findings["context_victims_total"]["value"] == [low, high]
    assert findings["context_victims_total"]["text"] == count_range(low, high)
    assert ("–" in findings["context_victims_total"]["text"]) == bool(latest["censored"])
    shares = composition(totals, "sex", KNOWN_SEXES, ["year", "age_group"])
    female = shares[
        (shares["year"] == latest["year"])
        & (shares["sex"] == "Female")
        & (shares["age_group"] == "Total")
    ].iloc[0]
    assert findings["context_share_female"]["value"] == pytest.approx(
        [female["share_low"], female["share_high"]]
    )
    police = asean_female_police(read_female_police(real["police"])).latest.dropna(subset=["share"])
    for row in police.itertuples():
        finding = findings[f"context_police_{row.iso3.lower()}"]
        assert finding["value"] == pytest.approx(row.share)
        assert f"({int(row.year)}" in finding["text"]
    assert "published 14 April 2025" in real["section"]
