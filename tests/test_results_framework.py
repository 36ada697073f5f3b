"""Results frameworks (issue 17): published programme figures against (illustrative) targets.

Known truth: the published figures quoted in issue 17 and plain arithmetic (34% of 185 officers
is 62.9, and a percentage rounded to 34 allows 33.5-34.5% of 185 = 61.975-63.825 officers).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.clean.wave import pseudonymised_fields
from analysis.errors import WpsInputError
from analysis.findings.book import to_yaml
from analysis.findings.results import (
    ResultsBrief,
    headline_indicators,
    progress_figure,
    progress_label,
)
from analysis.io import read_raw
from analysis.render import render_brief
from analysis.render.findings_file import load_findings
from analysis.render.projects import brief_document
from analysis.results_framework.indicators import (
    KEY,
    check_framework,
    count_from_percent,
    count_range,
    coverage_sentence,
    parse_period,
    period_total,
    progress_table,
    progress_text,
    read_framework,
    sex_sentence,
    source_date_epoch,
)
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import validate

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw" / "results_framework"
BUNDLED = RAW / "2019.csv"
HEADER = (
    "indicator_order,indicator_id,indicator,unit,counts_people,country,coverage,sex,period,period_type,"
    "baseline,target,target_status,achieved,achieved_qualifier,base,published_percent,"
    "achieved_min,achieved_max,source,note"
)
TABLE = "results/tables/results_framework/2019/progress.parquet"


def framework_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "2020.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def row(
    indicator: str = "officers",
    country: str = "Total",
    sex: str = "all",
    period: str = "2020",
    period_type: str = "cumulative",
    target: str = "",
    achieved: str = "",
    base: str = "",
    percent: str = "",
    low: str = "",
    high: str = "",
) -> str:
    status = "illustrative" if target else ""
    return (
        f",{indicator},Officers trained,officers,true,{country},,{sex},{period},{period_type},,"
        f"{target},{status},{achieved},,{base},{percent},{low},{high},Programme report,"
    )


def bundled() -> pd.DataFrame:
    return read_framework(BUNDLED)


def checked(path: Path) -> pd.DataFrame:
    frame = read_framework(path)
    check_framework(frame, dataset="results_framework", file=str(path))
    return frame


# ---- the bundled figures -------------------------------------------------------------------


def test_the_bundled_framework_holds_the_published_figures():
    progress = progress_table(checked(BUNDLED))
    achieved = {tuple(str(r[k]) for k in KEY): r["achieved"] for _, r in progress.iterrows()}
    assert achieved[("women_reached_awareness", "Total", "women", "2019")] == 24659
    assert achieved[("border_communities_reached", "Total", "all", "2019")] == 145
    trained = [achieved[("women_trained_livelihood", c, "women", "2019")]
               for c in ("Myanmar", "Cambodia", "Thailand", "Total")]  # fmt: skip
    assert trained == [129, 185, 58, 372]
    survivors = [achieved[("survivors_supported", c, "women", "2019")]
                 for c in ("Myanmar", "Cambodia", "Thailand", "Total")]  # fmt: skip
    assert survivors == [24, 55, 2, 81]
    assert achieved[("perpetrators_sentenced", "Myanmar", "all", "2019")] == 5
    assert achieved[("law_enforcement_reached", "Total", "all", "2019-09")] == 741
    assert achieved[("officers_asean_guideline", "Total", "all", "2019")] == 200
    assert achieved[("policy_improvements", "Total", "all", "2014/2015")] == 12
    referred = progress[progress["indicator_id"] == "victims_referred"].iloc[0]
    assert (referred["achieved"], referred["achieved_qualifier"]) == (5000, "more than")
    # every row names its source; every target shown is marked illustrative
    assert progress["source"].notna().all()
    targets = progress[progress["target"].notna()]
    assert (targets["target_status"] == "illustrative").all() and len(targets) > 0


def test_the_bundled_file_passes_validation_and_needs_no_pseudonymisation_key():
    codebook = load_codebook(RAW / "codebook.json")
    result = validate(
        read_raw(BUNDLED, dataset="results_framework"),
        codebook,
        dataset="results_framework",
        file=str(BUNDLED),
    )
    assert result.report["rows_quarantined"] == 0 and len(result.valid) == 25
    assert pseudonymised_fields(codebook) == []  # clean_wave then loads no key at all
    training = load_codebook(REPO / "data" / "raw" / "training" / "codebook.json")
    assert pseudonymised_fields(training) == ["officer_id"]


def test_validation_quarantines_a_percentage_above_100(tmp_path: Path):
    path = framework_file(tmp_path, row(achieved="200", base="185", percent="108"))
    result = validate(
        read_raw(path, dataset="results_framework"),
        load_codebook(RAW / "codebook.json"),
        dataset="results_framework",
        file=str(path),
    )
    assert result.report["rows_quarantined"] == 1
    assert set(result.quarantine["column"]) == {"published_percent"}


# ---- counts with their base ---------------------------------------------------------------


def test_a_percentage_with_its_base_becomes_a_count_with_its_rounding_range():
    assert count_from_percent(34, 185) == 63  # 62.9
    assert count_range(34, 185) == (62, 63)  # 61.975 to 63.825
    assert count_from_percent(48, 578) == 277  # 277.44
    assert count_range(48, 578) == (275, 280)  # 274.55 to 280.33
    assert count_range(38, 94) == (36, 36)  # 35.25 to 36.19
    assert count_range(34.5, 200) == (69, 69)  # one decimal: 34.45-34.55% of 200
    progress = progress_table(bundled())
    women = progress[
        (progress["indicator_id"] == "officers_pilot_training") & (progress["sex"] == "women")
    ].iloc[0]
    assert (women["achieved"], women["base"], women["published_percent"]) == (63, 185, 34)
    assert (women["achieved_min"], women["achieved_max"]) == (62, 63)
    assert women["share_of_base"] == pytest.approx(63 / 185)


def test_a_count_outside_the_range_of_its_percentage_is_refused(tmp_path: Path):
    path = framework_file(tmp_path, row(sex="women", achieved="70", base="185", percent="34"))
    with pytest.raises(WpsInputError) as info:
        checked(path)
    message = str(info.value)
    assert str(path) in message and "column 'achieved'" in message and "row 1" in message
    assert "70 is not 34% of 185" in message and "62 to 63" in message


# ---- not reported is not zero ---------------------------------------------------------------


def test_not_reported_is_kept_apart_from_zero(tmp_path: Path):
    path = framework_file(
        tmp_path,
        row(country="Total", target="100", achieved="60"),
        row(country="Cambodia", target="50", achieved="60"),
        row(country="Thailand", target="50", achieved=""),
        row(country="Viet Nam", target="50", achieved="0"),
    )
    progress = progress_table(checked(path)).set_index("country")
    assert progress.loc["Thailand", "progress_text"] == "not reported"
    assert not progress.loc["Thailand", "reported"]
    assert pd.isna(progress.loc["Thailand", "achieved"])
    assert progress.loc["Viet Nam", "progress_text"] == "0 of 50 (0%)"
    assert progress.loc["Viet Nam", "progress"] == 0
    rows = progress.reset_index()
    periods = pd.concat([rows.iloc[[2]].assign(period="2019"), rows.iloc[[2]]])
    periods["period_type"] = "period"
    total = period_total(periods)
    assert total["value"] is None and total["not_reported"] == ["2019", "2020"]


def test_the_bundled_thailand_support_figure_is_not_reported_not_zero():
    progress = progress_table(bundled())
    thailand = progress[
        (progress["indicator_id"] == "women_received_support") & (progress["country"] == "Thailand")
    ].iloc[0]
    assert thailand["progress_text"] == "not reported" and pd.isna(thailand["achieved"])
    assert coverage_sentence(progress, "women_received_support") == (
        "Reported for Cambodia and Myanmar only; not reported for Thailand (not reported is not "
        "zero)."
    )


def test_an_indicator_reported_for_some_countries_says_so():
    progress = progress_table(bundled())
    assert coverage_sentence(progress, "perpetrators_sentenced").startswith(
        "Reported for Myanmar only; not reported for Cambodia and Thailand"
    )
    assert coverage_sentence(progress, "women_trained_livelihood") == (
        "Reported for each country: Cambodia, Myanmar and Thailand."
    )
    assert coverage_sentence(progress, "officers_trained_programme") == ""  # a total only
    assert sex_sentence(progress, "officers_asean_guideline") == (
        "The source does not give this figure by sex."
    )
    assert sex_sentence(progress, "officers_pilot_training") == ""  # women given
    assert sex_sentence(progress, "border_communities_reached") == ""  # not people


# ---- cumulative and per-period figures ------------------------------------------------------


def test_cumulative_and_per_period_figures_are_never_added_together(tmp_path: Path):
    path = framework_file(
        tmp_path,
        row(period="2019", period_type="cumulative", achieved="300"),
        row(period="2020", period_type="cumulative", achieved="500"),
        row(indicator="per_year", period="2019", period_type="period", achieved="300"),
        row(indicator="per_year", period="2020", period_type="period", achieved="200"),
    )
    frame = checked(path)
    cumulative = period_total(frame[frame["indicator_id"] == "officers"])
    assert cumulative["value"] == 500 and cumulative["period"] == "2020"  # latest, not 800
    per_year = period_total(frame[frame["indicator_id"] == "per_year"])
    assert per_year["value"] == 500 and per_year["period"] == "2019 to 2020"
    mixed = pd.concat([frame.iloc[[1]], frame.iloc[[2]]])
    with pytest.raises(WpsInputError) as info:
        period_total(mixed, what="officers trained")
    message = str(info.value)
    assert "cannot add cumulative and per-period figures together for officers trained" in message
    assert "2020 (cumulative)" in message and "2019 (period)" in message
    assert "column 'period_type'" in message


# ---- a target of zero -----------------------------------------------------------------------


def test_a_target_of_zero_leaves_progress_undefined(tmp_path: Path):
    path = framework_file(tmp_path, row(target="0", achieved="5"), row(country="Lao PDR"))
    progress = progress_table(checked(path))
    zero = progress[progress["country"] == "Total"].iloc[0]
    assert zero["progress_text"] == "target 0: achieved 5"
    assert pd.isna(zero["progress"])
    assert progress_label(zero) == "target 0: achieved 5"
    assert progress_text(None, 0) == "not reported"
    assert progress_text(5000, 4000, "more than") == "more than 5,000 of 4,000 (at least 125%)"


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_row", "column", "words"),
    [
        (row(sex="women", achieved="200", base="185", percent="108"), "published_percent",
         "a percentage must lie between 0 and 100; found 108"),
        (row(sex="women", achieved="63", percent="34"), "base",
         "a published percentage needs its base"),
        (row(period="Sept 2019"), "period", "the period does not parse: 'Sept 2019'"),
        (row(period="2019-13"), "period", "the period does not parse: '2019-13'"),
        (row(period="2015/2014"), "period", "the period does not parse: '2015/2014'"),
        (row(target="50"), "target_status", None),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_file_column_and_rows(
    tmp_path: Path, bad_row: str, column: str, words: str | None
):
    if column == "target_status":  # a target whose status nobody stated
        bad_row = bad_row.replace(",50,illustrative,", ",50,,")
        words = "a target needs its status"
    path = framework_file(tmp_path, row(country="Cambodia", achieved="4"), bad_row)
    with pytest.raises(WpsInputError) as info:
        checked(path)
    message = str(info.value)
    assert message.startswith(f"results_framework: {path}: column '{column}', row 2: ")
    assert words in message
    assert "What to do" in message or column != "period"


def test_a_percentage_sign_in_a_count_column_is_refused(tmp_path: Path):
    path = framework_file(tmp_path, row(achieved="34%"))
    with pytest.raises(WpsInputError) as info:
        read_framework(path)
    assert "column 'achieved', row 1" in str(info.value) and "'34%'" in str(info.value)


def test_periods_parse_to_their_days():
    assert parse_period("2019-09").end.isoformat() == "2019-09-30"
    assert parse_period("2014/2015").start.isoformat() == "2014-01-01"
    with pytest.raises(ValueError):
        parse_period("2019-9")
    assert source_date_epoch(bundled()) == 1640995200  # 2022-01-01: the day after 2021 ends


# ---- the brief ------------------------------------------------------------------------------


def build(tmp_path: Path) -> tuple[dict, pd.DataFrame]:
    progress = progress_table(bundled())
    files = progress_figure(progress, tmp_path / "figures" / "progress")
    brief = ResultsBrief(
        dataset="results_framework",
        wave="2019",
        progress=progress,
        progress_table=TABLE,
        figure={"svg": str(files["svg"]), "png": str(files["png"])},
        alt=files["alt"].read_text(encoding="utf-8"),
        title=json.loads((RAW / "codebook.json").read_text(encoding="utf-8"))["title"],
    )
    return brief.findings(1640995200, {"run_id": "test-run", "manifest_hash": "ab" * 32}), progress


def test_every_finding_traces_to_its_cell_and_its_document(tmp_path: Path):
    findings, progress = build(tmp_path)
    assert findings["kind"] == "results"
    documents = set(progress["source"])
    for key, finding in findings["findings"].items():
        source = finding["source"]
        assert source["table"] == TABLE and source["document"] in documents, key
        match = progress
        for column, value in source["row"].items():
            match = match[match[column].astype(str) == value]
        assert len(match) == 1, key
        cell = match.iloc[0][source["column"]]
        if pd.isna(cell):
            assert finding["value"] is None and finding["text"] == "not reported", key
        else:
            assert finding["value"] == pytest.approx(float(cell)), key
    texts = {f["text"] for f in findings["findings"].values()}
    assert {"24,659", "372", "207", "81", "5", "578", "277", "63", "94", "36"} <= texts
    assert "more than 5,000" in texts and "not reported" in texts
    # Indicators left out of the headline list are in the chart, its alt text naming each figure.
    alt = findings["figures"]["progress"]["alt"]
    for figure in ("145 of 150", "741 of 800", "200 of 200", "12 (no target)"):
        assert figure in alt


def test_the_brief_shows_sex_where_the_source_has_it_and_says_where_not(tmp_path: Path):
    findings, _ = build(tmp_path)
    text = findings["sections"]["by_sex"]["markdown"]
    assert (
        "front-line officers trained in seven ASEAN countries 578, of whom women 277 "
        "(48% of 578, as published)"
    ) in text
    assert "34% of 185 allows 62 to 63" in text  # the range the rounded percentage allows
    assert "**Not given by sex in the source**" in text
    assert "Front-line officers trained on the ASEAN gender-sensitive guideline" in text
    assert "**Women only**: 4 indicators count only women" in text
    country = findings["sections"]["by_country"]["markdown"]
    assert (
        "Women trained who received cash or in-kind support: Cambodia 78, Myanmar 129, "
        "Thailand not reported, total 207"
    ) in country


def test_the_headline_list_names_every_source_and_keeps_framework_order():
    """Four headlines from thirteen indicators: the first of each source document, in order."""
    progress = progress_table(bundled())
    assert headline_indicators(progress, 4) == [
        "women_reached_awareness",
        "officers_pilot_training",
        "officers_trained_programme",
        "victims_referred",
    ]
    five = headline_indicators(progress, 5)  # then the next indicator about people
    assert five[:2] == ["women_reached_awareness", "women_trained_livelihood"]
    assert len(headline_indicators(progress, 40)) == progress["indicator_id"].nunique()


def test_the_brief_renders_with_the_numbers_and_the_illustrative_warning(tmp_path: Path):
    if shutil.which("pandoc") is None:
        pytest.skip("pandoc is not installed")
    findings, _ = build(tmp_path)
    path = tmp_path / "results_framework.yaml"
    path.write_text(to_yaml(findings), encoding="utf-8")
    assert load_findings(path).kind == "results"
    out = render_brief(
        brief_document("results", REPO / "reports"), path, tmp_path / "out", formats=("html",),
        engine="pandoc", work_dir=tmp_path / "work", data_root=tmp_path,
    )  # fmt: skip
    html = out["html"].read_text(encoding="utf-8")
    plain = re.sub(r"<[^>]+>", "", html)
    for number in ("24,659", "372", "207", "81", "36", "578", "277", "63"):
        assert re.search(rf"(?<![\d,]){re.escape(number)}(?![\d,])", plain), number
    assert "ILLUSTRATIVE" in plain and "25,000 (illustrative)" in plain
    assert "not reported" in plain and "more than 5,000" in plain
    assert "COMMIT Sub-regional Plan of Action" in plain
    assert "{{<" not in html
    alt = yaml.safe_load(path.read_text(encoding="utf-8"))["figures"]["progress"]["alt"]
    assert "illustrative" in alt and "24,659 of 25,000" in alt


def test_indicators_keep_the_framework_order_whatever_the_row_order():
    """The cleaned table is sorted by key; the brief still lists indicators as the file does."""
    frame = bundled()
    in_file = list(dict.fromkeys(frame["indicator_id"]))
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    assert list(dict.fromkeys(shuffled["indicator_id"])) != in_file
    assert list(dict.fromkeys(progress_table(shuffled)["indicator_id"])) == in_file


def test_the_results_brief_fits_one_a4_page_with_its_provenance_on_a_second(tmp_path: Path):
    """The bundled framework's brief, rendered to PDF: headline results, chart and the
    illustrative-target warning on page 1; two pages at most (provenance appendix on page 2)."""
    pypdf = pytest.importorskip("pypdf")
    if shutil.which("pandoc") is None:
        pytest.skip("pandoc is not installed")
    findings, _ = build(tmp_path)
    path = tmp_path / "results_framework.yaml"
    path.write_text(to_yaml(findings), encoding="utf-8")
    out = render_brief(
        brief_document("results", REPO / "reports"), path, tmp_path / "out", formats=("pdf",),
        engine="pandoc", work_dir=tmp_path / "work", data_root=tmp_path,
    )  # fmt: skip
    reader = pypdf.PdfReader(out["pdf"])
    assert len(reader.pages) <= 2
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Targets are ILLUSTRATIVE, not published" in first
    assert "Headline results" in first
    for line in findings["sections"]["headlines"]["markdown"].splitlines():
        figure = re.search(r"\*\*(.+?)\*\*", line).group(1)
        assert figure in first, figure
    # The chart is drawn as paths (no text to extract): its caption sits under it, in one figure.
    assert "Figure 1: Every indicator against its target (2019)" in first
    # The whole brief but its provenance appendix: figures by sex and country, and the sources.
    assert "Not given by sex in the source" in first and "total 207" in first
    assert "[4] COMMIT" in first and "(SPA IV) monitoring" in first
