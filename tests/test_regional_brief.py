"""Regional brief findings from small fixture tables: every source cell exists exactly once,
suppressed cells print 'suppressed' and are counted, the model's words follow its formula."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.errors import WpsInputError
from analysis.findings.book import SUPPRESSED
from analysis.findings.declaration import load_declaration
from analysis.findings.declared import BriefRun, build_brief
from analysis.findings.words import covariates_sentence, formula_terms

FORMULA = "intend_stay_5y ~ harassment + training_gender + women + C(age_band)"


def estimate(estimate_id, value, group_var="(overall)", group_value="(overall)", n=500, k=100):
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
        estimate("women_share", 0.12 + shift),
        estimate("women_share", 0.09, "rank_label", "Senior officer", n=180, k=3),  # suppressed
        estimate("women_share", 0.12, "border_posting", "1"),
        estimate("women_share", 0.20, "country_label", "Lao PDR"),
        estimate("women_share", 0.05, "country_label", "Indonesia"),
        estimate("women_share", 0.30, "country_label", "Smallland", n=8, k=3),  # suppressed
        estimate("training_coverage", 0.51 + shift, "women", "1"),
        estimate("training_coverage", 0.48, "women", "0"),
        estimate("gs_procedure_followed", 0.72, "training_gender", "1"),
        estimate("gs_procedure_followed", 0.41, "training_gender", "0"),
        estimate("harassment_prevalence", 0.25, "women", "1"),
        estimate("harassment_prevalence", 0.05, "women", "0"),
        estimate("report_safe", 0.23, "women", "1"),
        estimate("intend_stay", 0.67, "women", "1"),
        estimate("intend_stay", 0.78, "women", "0"),
    ]
    return pd.DataFrame(rows)


def reliability_table() -> pd.DataFrame:
    """Per-code alphas as analyse_interviews writes them: two unreliable, one tentative."""
    rows = [
        ("push_poverty_debt", 0.92, 0.7, 1.0, "reliable"),
        ("push_family_pressure", 0.75, 0.4, 1.0, "tentative"),
        ("ctrl_debt_bondage", 0.13, -0.38, 0.58, "unreliable"),
        ("stig_self_blame", 0.01, -0.38, 0.46, "unreliable"),
        ("(all codes)", 0.7837, 0.7221, 0.843, "tentative"),
    ]
    return pd.DataFrame(
        {
            "code": [r[0] for r in rows],
            "interviews": 15,
            "alpha": [r[1] for r in rows],
            "alpha_low": [r[2] for r in rows],
            "alpha_high": [r[3] for r in rows],
            "flag": [r[4] for r in rows],
        }
    )


VARIANCE = "Taylor linearisation, with-replacement approximation; lonely PSUs: adjust"


def write_tables(root: Path, *, previous: bool = True) -> dict[str, str]:
    paths: dict[str, str] = {}

    def put(name: str, frame: pd.DataFrame, file: str) -> None:
        path = root / file
        frame.to_parquet(path) if file.endswith(".parquet") else frame.to_csv(path, index=False)
        paths[name] = str(path)

    put("estimates", estimates().assign(variance=VARIANCE), "estimates.parquet")
    if previous:
        put("estimates_previous", estimates(-0.1), "estimates_previous.parquet")
    put(
        "model_stay_logit",
        pd.DataFrame(
            {
                "term": ["Intercept", "harassment", "training_gender", "women"],
                "odds_ratio": [3.0, 0.46, 1.39, 0.62],
                "or_ci_low": [2.0, 0.34, 1.13, 0.46],
                "or_ci_high": [4.0, 0.62, 1.70, 0.84],
                "p": [0.0001, 0.0001, 0.002, 0.002],
            }
        ),
        "stay_logit.parquet",
    )
    card = root / "stay_logit.card.json"
    card.write_text(
        json.dumps(
            {"id": "stay_logit", "formula": FORMULA, "n": 2737, "reference": {"age_band": "18-29"}}
        )
    )
    paths["card_stay_logit"] = str(card)
    modules = ["All", "Gender awareness", "Gender-informed investigation"]
    modules.append("Team building and self-care")
    put(
        "prepost",
        pd.DataFrame(
            {
                "statistic": "gain",
                "group": ["all", "module_label", "module_label", "module_label"],
                "module_label": modules,
                "estimate": [2.6, 4.0, 2.5, 1.5],
                "ci_low": [1.9, 3.1, 1.7, 0.4],
                "ci_high": [3.4, 4.7, 3.3, 2.6],
                "hedges_g": [0.8, 1.2, 0.8, 0.5],
                "n": [508, 172, 168, 168],
            }
        ),
        "prepost.parquet",
    )
    everyone = {"respondent_type": "All", "sex": "All", "country": "All"}
    freq = [
        {
            "level": "theme",
            "theme": "Push factors",
            "code": "",
            **everyone,
            "interviews_mentioning": 40,
            "interviews": 61,
        },
        {
            "level": "theme",
            "theme": "Stigma",
            "code": "",
            **everyone,
            "interviews_mentioning": 32,
            "interviews": 61,
        },
        {
            "level": "theme",
            "theme": "Return",
            "code": "",
            **everyone,
            "interviews_mentioning": 42,
            "interviews": 61,
        },
        {
            "level": "code",
            "theme": "Push factors",
            "code": "push_poverty_debt",
            **everyone,
            "interviews_mentioning": 14,
            "interviews": 61,
        },
        {
            "level": "code",
            "theme": "Push factors",
            "code": "push_family_pressure",
            **everyone,
            "interviews_mentioning": 15,
            "interviews": 61,
        },
    ]
    for kind, n in (("Survivor", 37), ("Family member", 8), ("Front-line officer", 10)):
        freq.append(
            {
                "level": "theme",
                "theme": "Push factors",
                "code": "",
                "respondent_type": kind,
                "sex": "All",
                "country": "All",
                "interviews_mentioning": 3,
                "interviews": n,
            }
        )
    freq.append(
        {
            "level": "theme",
            "theme": "Push factors",
            "code": "",
            "respondent_type": "Facilitator",
            "sex": "All",
            "country": "All",
            "interviews_mentioning": 1,
            "interviews": 3,
        }
    )  # under 5: withheld
    put("interviews_frequencies", pd.DataFrame(freq), "frequencies.csv")
    put(
        "interviews_sex_differences",
        pd.DataFrame(
            [
                {
                    "level": "code",
                    "theme": "Push factors",
                    "code": "push_poverty_debt",
                    "women": 33,
                    "men": 4,
                }
            ]
        ),
        "sex_differences.csv",
    )
    put(
        "interviews_theme_cooccurrence",
        pd.DataFrame(
            {
                "theme": ["Push factors", "Return", "Stigma", "Total"],
                "Push factors": [40, 29, 23, 92],
                "Return": [29, 42, None, 71],
                "Stigma": [23, None, 32, 55],
                "Total": [92, 71, 55, 218],
            }
        ),
        "theme_cooccurrence.csv",
    )
    put(
        "quotes",
        pd.DataFrame(
            [
                {
                    "quote_id": "Q-0030",
                    "respondent_type": "Survivor",
                    "sex": "Woman",
                    "country": "Thailand",
                    "quote": "I wanted to go anywhere.",
                }
            ]
        ),
        "quotes.csv",
    )
    put("interviews_reliability", reliability_table(), "reliability.csv")
    codebook = root / "interviews.codebook.json"
    categories = [
        {"value": "push_poverty_debt", "label": "Poverty or debt"},
        {"value": "push_family_pressure", "label": "Family pressure"},
        {"value": "ctrl_debt_bondage", "label": "Debt bondage"},
        {"value": "stig_self_blame", "label": "Self-blame"},
    ]
    codebook.write_text(json.dumps({"fields": [{"name": "code", "categories": categories}]}))
    paths["interviews_codebook"] = str(codebook)
    return paths


def figure_paths(root: Path) -> dict[str, str]:
    paths = {}
    for name in ("women_by_country", "training_gain", "code_cooccurrence"):
        for kind, ext in (("svg", "svg"), ("png", "png"), ("alt", "alt.txt")):
            path = root / f"{name}.{ext}"
            path.write_text(f"{name} alt text\n")
            paths[f"figure_{name}_{kind}"] = str(path)
    return paths


DECLARATION = Path(__file__).resolve().parents[1] / "reports" / "regional" / "numbers.yaml"


def regional(
    paths: dict[str, str],
    figures: dict[str, str],
    *,
    previous_wave: str | None = "2023",
    quote_id: str | None = None,
):
    """The regional brief's findings book from its declaration and these tables."""
    run = BriefRun(
        wave="2025",
        threshold=10,
        interview_threshold=5,
        previous_wave=previous_wave,
        figure_paths=figures,
        quote_id=quote_id,
    )
    return build_brief(load_declaration(DECLARATION), paths, run, brief="regional")[0]


def build(tmp_path: Path, *, previous: bool = True, quote_id: str | None = "Q-0030"):
    return regional(
        write_tables(tmp_path, previous=previous),
        figure_paths(tmp_path),
        previous_wave="2023" if previous else None,
        quote_id=quote_id,
    )


def load(table: str) -> pd.DataFrame:
    if table.endswith(".json"):
        return pd.DataFrame([json.loads(Path(table).read_text())])
    return pd.read_parquet(table) if table.endswith(".parquet") else pd.read_csv(table)


def locate(source: dict) -> None:
    """The source names one row of an existing table, and columns that exist."""
    frame = load(source["table"])
    if "row" in source:
        mask = pd.Series(True, index=frame.index)
        for column, value in source["row"].items():
            if column == "model_id":
                continue
            mask &= frame[column].astype("string").fillna("") == str(value)
        assert mask.sum() == 1, source
    if source.get("column") and "derived_from" not in source:
        for column in source["column"].split(", "):
            assert column in frame.columns or column == "group_value", source


def test_every_source_locates_exactly_one_row(tmp_path: Path) -> None:
    book = build(tmp_path)
    assert len(book.findings) > 40
    for key, finding in book.findings.items():
        source = finding["source"]
        for part in source.get("derived_from", []):
            if "table" in part:
                locate(part)
        if "table" in source:
            locate(source)
        assert finding["text"], key


def test_suppressed_cells_print_suppressed_and_are_counted(tmp_path: Path) -> None:
    book = build(tmp_path)
    assert book.findings["women_senior_share"]["text"] == SUPPRESSED
    smallland = [r for r in book.tables["women_by_country"]["rows"] if r[0] == "Smallland"]
    assert smallland == [["Smallland", SUPPRESSED, SUPPRESSED, "8"]]
    assert book.findings["survivors_men"]["text"] == "fewer than 5"
    assert book.findings["interviews_facilitators"]["text"] == "fewer than 5"
    # senior share, two Smallland cells, men survivors, facilitators
    assert book.suppressed_cells == 5
    assert "5 figures were withheld" in book.suppressed_note()


def test_interview_findings(tmp_path: Path) -> None:
    texts = {k: v["text"] for k, v in build(tmp_path).findings.items()}
    assert texts["interviews_total"] == "61"
    assert texts["interviews_survivors"] == "37"
    assert [texts[f"interview_theme_{i}"] for i in (1, 2, 3)] == [
        "return",
        "push factors",
        "stigma",
    ]
    assert texts["push_factor_1"] == "family pressure"
    assert texts["theme_pair"] == "push factors and return"
    assert texts["theme_pair_n"] == "29"
    assert texts["quote_id"] == "Q-0030"
    assert texts["quote_speaker"] == "survivor, Thailand"


def test_reliability_note_flags_codes_below_the_thresholds(tmp_path: Path) -> None:
    findings = build(tmp_path).findings
    note = findings["reliability_note"]["text"]
    assert "15 interviews" in note and "all 4 codes" in note
    assert "0.78 overall (95% bootstrap interval 0.72–0.84)" in note
    assert "below 0.667 (unreliable) for Debt bondage and Self-blame" in note
    assert "between 0.667 and 0.8 (tentative) for Family pressure" in note
    assert "read with caution" in note
    assert "Poverty or debt" not in note
    assert findings["reliability_unreliable"]["value"] == ["ctrl_debt_bondage", "stig_self_blame"]


def test_reliability_note_when_every_code_is_reliable(tmp_path: Path) -> None:
    paths = write_tables(tmp_path)
    table = reliability_table().assign(alpha=0.9, alpha_low=0.85, alpha_high=0.95, flag="reliable")
    table.to_csv(paths["interviews_reliability"], index=False)
    book = regional(paths, figure_paths(tmp_path), previous_wave=None)
    note = book.findings["reliability_note"]["text"]
    assert note.endswith("at least 0.8 for every code.") and "caution" not in note


def test_quote_not_in_the_bank_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WpsInputError, match="Q-9999.*not in the quote bank") as raised:
        build(tmp_path, quote_id="Q-9999")
    # the bank holds only reviewed quotes, so the message says how to get one reviewed
    assert "not approved by a reviewer" in str(raised.value)
    assert "wps quotes review" in str(raised.value)


def test_the_methods_box_names_the_variance_estimator(tmp_path: Path) -> None:
    finding = build(tmp_path).findings["variance_method"]
    assert finding["text"] == VARIANCE
    assert finding["source"]["column"] == "variance"


def test_training_gains_by_module(tmp_path: Path) -> None:
    texts = {k: v["text"] for k, v in build(tmp_path).findings.items()}
    assert texts["training_gain_awareness"] == "+4.0"
    assert texts["training_gain_investigation"] == "+2.5"
    assert texts["training_gain_selfcare"] == "+1.5"
    assert texts["training_g_awareness"] == "1.2"


def test_an_interval_from_two_cohorts_is_printed_as_unreliable(tmp_path: Path) -> None:
    paths = write_tables(tmp_path, previous=False)
    prepost = pd.read_parquet(paths["prepost"])
    prepost["ci_flag"] = ["unreliable", "", "", ""]
    prepost["ci_note"] = ["only 2 cohorts, so the interval is very wide", "", "", ""]
    prepost.to_parquet(paths["prepost"])
    book = regional(paths, figure_paths(tmp_path), previous_wave=None)
    text = book.findings["training_gain_ci"]["text"]
    assert text.endswith("unreliable: only 2 cohorts, so the interval is very wide")
    locate(book.findings["training_gain_ci"]["source"])


def test_model_words_come_from_its_formula(tmp_path: Path) -> None:
    assert formula_terms(FORMULA) == ["harassment", "training_gender", "women", "age_band"]
    words = load_declaration(DECLARATION).words
    assert covariates_sentence(FORMULA, "harassment", words) == "gender training, sex and age group"
    texts = {k: v["text"] for k, v in build(tmp_path).findings.items()}
    assert texts["model_stay_covariates"] == "gender training, sex and age group"
    assert texts["model_harassment_or"] == "0.46"


def test_change_since_previous_wave_and_first_wave(tmp_path: Path) -> None:
    book = build(tmp_path)
    summary = book.findings["change_summary"]["text"]
    assert summary.startswith("Change since 2023:")
    assert "2.0% → 12.0% (+10.0 points)" in summary
    assert book.findings["women_share_change"]["value"] == pytest.approx(0.10)
    (tmp_path / "first").mkdir()
    first = build(tmp_path / "first", previous=False)
    assert "first wave" in first.findings["change_summary"]["text"]
    assert SUPPRESSED not in first.findings["change_summary"]["text"]


def test_findings_file_is_deterministic_yaml(tmp_path: Path) -> None:
    from analysis.findings.book import to_yaml

    one = to_yaml(build(tmp_path).to_dict("T", 0, {}))
    two = to_yaml(build(tmp_path).to_dict("T", 0, {}))
    assert one == two
    assert yaml.safe_load(one)["suppressed_cells"] == 5


def render_regional_pdf(tmp_path: Path, paths: dict[str, str]):
    """The regional brief of fixture tables, figures drawn, rendered to PDF (pandoc engine)."""
    pypdf = pytest.importorskip("pypdf")
    from analysis.findings.book import to_yaml
    from analysis.findings.figures import theme_cooccurrence, training_gain, women_by_country
    from analysis.render import render_brief

    women_by_country(pd.read_parquet(paths["estimates"]), tmp_path / "women_by_country", 10)
    training_gain(pd.read_parquet(paths["prepost"]), tmp_path / "training_gain")
    theme_cooccurrence(
        pd.read_csv(paths["interviews_theme_cooccurrence"]), tmp_path / "code_cooccurrence"
    )
    figures = {
        f"figure_{name}_{kind}": str(tmp_path / f"{name}.{ext}")
        for name in ("women_by_country", "training_gain", "code_cooccurrence")
        for kind, ext in (("svg", "svg"), ("png", "png"), ("alt", "alt.txt"))
    }
    book = regional(paths, figures, quote_id="Q-0030")
    findings = tmp_path / "regional.yaml"
    findings.write_text(to_yaml(book.to_dict("Regional brief", 1748822400, {})), "utf-8")
    qmd = Path(__file__).resolve().parents[1] / "reports" / "regional" / "regional.qmd"
    out = render_brief(qmd, findings, tmp_path / "out", ("pdf",), "pandoc", work_dir=tmp_path)
    return pypdf.PdfReader(out["pdf"])


def test_rendered_regional_brief_is_two_to_four_a4_pages(tmp_path: Path) -> None:
    """The brief's words and layout with fixture findings fit the 2-4 page genre, on A4."""
    reader = render_regional_pdf(tmp_path, write_tables(tmp_path))
    assert 2 <= len(reader.pages) <= 4
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = "".join(page.extract_text() for page in reader.pages)
    assert "fewer than 5" in text and "Q-0030" in text
    assert "Programme results" not in text  # no results framework configured: no section


def test_every_model_term_of_the_plan_becomes_a_finding(tmp_path: Path) -> None:
    findings = build(tmp_path).findings
    model_terms = {k for k in findings if k.startswith("model_stay_logit_")}
    assert model_terms == {
        f"model_stay_logit_{t}" for t in ("intercept", "harassment", "training_gender", "women")
    }
    assert findings["model_stay_logit_harassment"]["text"] == "0.46 (0.34–0.62)"
    assert findings["model_stay_logit_harassment"]["source"]["row"]["term"] == "harassment"


# ---- the programme results section (issue 17) -------------------------------------------------


def framework_tables(tmp_path: Path) -> dict[str, str]:
    """The bundled results framework's progress table and codebook where the workflow puts them."""
    from analysis.results_framework.indicators import progress_table, read_framework

    root = Path(__file__).resolve().parents[1]
    raw = read_framework(root / "data" / "raw" / "results_framework" / "2019.csv")
    table = tmp_path / "results" / "tables" / "results_framework" / "2019" / "progress.parquet"
    table.parent.mkdir(parents=True)
    progress_table(raw).to_parquet(table)
    codebook = tmp_path / "2019.codebook.json"
    codebook.write_text(json.dumps({"title": "Programme results against targets"}))
    return {"programme_progress": str(table), "programme_codebook": str(codebook)}


def build_with_framework(tmp_path: Path):
    paths = {**write_tables(tmp_path), **framework_tables(tmp_path)}
    return regional(paths, figure_paths(tmp_path), quote_id="Q-0030")


def test_programme_results_section_numbers_each_trace_to_their_cell(tmp_path: Path) -> None:
    book = build_with_framework(tmp_path)
    programme = {k: f for k, f in book.findings.items() if k.startswith("programme_")}
    numbers = {k: f for k, f in programme.items() if "derived_from" not in f["source"]}
    assert len(numbers) >= 6
    progress = pd.read_parquet(book.findings[next(iter(numbers))]["source"]["table"])
    for key, finding in numbers.items():
        locate(finding["source"])
        row = finding["source"]["row"]
        cell = progress
        for column, value in row.items():
            cell = cell[cell[column].astype(str) == value]
        value = cell.iloc[0][finding["source"]["column"]]
        assert finding["value"] == pytest.approx(float(value)), key
        assert finding["source"]["document"] == cell.iloc[0]["source"], key
    section = book.sections["programme_results"]["markdown"]
    for finding in numbers.values():
        assert finding["text"] in section
    # The published figures, with women's share where the source gives it (34% of 185).
    assert "**24,659** women reached" in section
    assert "women 63 (34% of 185, as published)" in section
    assert "women 277 (48% of 578, as published)" in section
    # Each line says when (a running total "to" a date), as the results brief does.
    assert "(to 2019): 99% of target, target 25,000 (illustrative)" in section


def test_programme_results_section_says_its_targets_are_illustrative(tmp_path: Path) -> None:
    section = build_with_framework(tmp_path).sections["programme_results"]["markdown"]
    assert "Targets are ILLUSTRATIVE" in section
    assert "25,000 (illustrative)" in section
    assert "results brief *Programme results against targets: 2019*" in section
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert 3 <= len(lines) <= 5


def test_programme_results_section_is_empty_without_a_framework(tmp_path: Path) -> None:
    book = build(tmp_path)
    assert book.sections["programme_results"]["markdown"] == ""
    assert not any(key.startswith("programme_") for key in book.findings)


def test_regional_brief_with_programme_results_renders_in_two_to_four_pages(
    tmp_path: Path,
) -> None:
    """With a framework configured the section is printed, ILLUSTRATIVE and all, and the brief
    keeps to the 2-4 page genre (without one, the render test above prints no section)."""
    paths = {**write_tables(tmp_path), **framework_tables(tmp_path)}
    reader = render_regional_pdf(tmp_path, paths)
    assert 2 <= len(reader.pages) <= 4
    text = " ".join("".join(page.extract_text() for page in reader.pages).split())
    assert "Programme results" in text and "Targets are ILLUSTRATIVE, not published" in text
    assert "24,659 women reached" in text and "25,000 (illustrative)" in text
