"""Briefs declared, not coded: the regional and country briefs come from their declarations
(reports/<kind>/numbers.yaml) with the findings the hand-written code made, and a bad
declaration is refused naming the brief's file, the finding and what the tables do have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_country_brief import build as build_country
from test_regional_brief import build as build_regional
from test_regional_brief import figure_paths, write_tables

from analysis.findings.book import to_yaml
from analysis.findings.declaration import (
    DeclarationError,
    check_quoted_keys,
    load_declaration,
    parse_declaration,
)
from analysis.findings.declared import BriefRun, brief_parameters, build_brief
from analysis.findings.sections import SECTION_KINDS, provided_keys
from analysis.render.findings_file import RESERVED_KEYS

REPO = Path(__file__).resolve().parents[1]
EXPECTED = Path(__file__).resolve().parent / "expected"
# The only differences from the findings the hand-written code made (tests/expected/*.yaml,
# written by it from these fixture tables before it was removed): bug fixes, each said here.
FIXES = {
    # The finding named its cell (estimates, column variance) but recorded no value.
    "findings/variance_method/value",
}


def findings_of(book, root: Path) -> dict:
    """A book as its findings file says it, with the fixture folder written as ROOT."""
    return yaml.safe_load(to_yaml(book.to_dict("T", 0, {})).replace(str(root), "ROOT"))


def differences(old, new, path: str = "") -> list[str]:
    """Every place two findings files differ: lost, new or changed, by path."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}/{key}".lstrip("/")
            if key not in new:
                out.append(f"lost {where}")
            elif key not in old:
                out.append(f"new {where}")
            else:
                out += differences(old[key], new[key], where)
        return out
    return [] if old == new else [path]


@pytest.mark.parametrize("kind", ["regional", "country"])
def test_declared_brief_says_what_the_coded_brief_said(tmp_path: Path, kind: str) -> None:
    """Every finding, table, figure and section of the old briefs, value, text and source cell,
    is made again from the declaration (fails if one is lost, added or changed)."""
    book = build_regional(tmp_path) if kind == "regional" else build_country(tmp_path)
    old = yaml.safe_load((EXPECTED / f"findings-{kind}.yaml").read_text(encoding="utf-8"))
    new = findings_of(book, tmp_path)
    assert len(old["findings"]) > (60 if kind == "regional" else 20)
    assert [d for d in differences(old, new) if d not in FIXES] == []
    if kind == "regional":
        assert (
            new["findings"]["variance_method"]["value"]
            == new["findings"]["variance_method"]["text"]
        )


@pytest.mark.parametrize("kind", ["regional", "country"])
def test_every_number_the_document_quotes_is_declared(kind: str) -> None:
    declaration = load_declaration(REPO / "reports" / kind / "numbers.yaml")
    qmd = REPO / "reports" / kind / f"{kind}.qmd"
    check_quoted_keys(declaration, qmd, provided_keys(declaration), RESERVED_KEYS)


# ---- bad declarations ----------------------------------------------------------------------
def declaration(numbers: dict, sections: list | None = None, **top) -> dict:
    return {"title": "T {wave}", "numbers": numbers, "sections": sections or [], **top}


def build_with(tmp_path: Path, data: dict, parameters: dict | None = None):
    decl = parse_declaration(data, "reports/mine/numbers.yaml")
    run = BriefRun(wave="2025", threshold=10, figure_paths=figure_paths(tmp_path))
    return build_brief(decl, write_tables(tmp_path), run, brief="mine", parameters=parameters)


def test_an_estimate_the_plan_does_not_make_names_the_ones_it_does(tmp_path: Path) -> None:
    data = declaration({"women_pct": {"estimate": "womens_share"}})
    with pytest.raises(DeclarationError) as err:
        build_with(tmp_path, data)
    message = str(err.value)
    assert "reports/mine/numbers.yaml" in message and "number 'women_pct'" in message
    assert "no estimate 'womens_share'" in message
    made = "gs_procedure_followed, harassment_prevalence, intend_stay, report_safe, "
    assert f"the estimates of the dataset's plan are: {made}training_coverage, women_share" in (
        message
    )


def test_an_unknown_group_or_level_names_the_groups_there_are(tmp_path: Path) -> None:
    data = declaration({"x": {"estimate": "women_share", "group": {"country_label": "Atlantis"}}})
    with pytest.raises(DeclarationError, match="number 'x'.*no row for level '1' and group") as err:
        build_with(tmp_path, data)
    assert "country_label: Lao PDR" in str(err.value) and "rank_label: Senior officer" in str(
        err.value
    )
    data = declaration({"x": {"estimate": "women_share", "level": "2"}})
    with pytest.raises(DeclarationError, match="its levels are: 1"):
        build_with(tmp_path, data)


def test_an_unknown_model_term_or_table_names_what_there_is(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="no model 'stay'.*models .* are: stay_logit"):
        build_with(tmp_path, declaration({"x": {"model": "stay", "term": "harassment"}}))
    with pytest.raises(DeclarationError, match="no term 'harrassment'.*Intercept, harassment"):
        build_with(tmp_path, declaration({"x": {"model": "stay_logit", "term": "harrassment"}}))
    with pytest.raises(DeclarationError, match="table 'pre_post' is not an input.*prepost"):
        build_with(
            tmp_path, declaration({"x": {"table": "pre_post", "row": {"a": 1}, "column": "n"}})
        )


def test_an_unknown_format_or_source_is_refused_before_any_table_is_read() -> None:
    bad = declaration({"women_share": {"estimate": "women_share", "format": "percentage"}})
    with pytest.raises(DeclarationError) as err:
        parse_declaration(bad, "reports/mine/numbers.yaml")
    message = str(err.value)
    assert "reports/mine/numbers.yaml" in message and "number 'women_share'.format" in message
    assert "'percentage' is not one of" in message and "'percent'" in message
    both = declaration({"x": {"estimate": "women_share", "table": "prepost"}})
    with pytest.raises(DeclarationError, match="number 'x': name exactly one source"):
        parse_declaration(both, "reports/mine/numbers.yaml")


def test_an_unknown_section_kind_names_the_kinds() -> None:
    bad = declaration({}, [{"kind": "pie_chart"}])
    with pytest.raises(DeclarationError, match="section 1 \\(pie_chart\\).*kinds are: context"):
        parse_declaration(bad, "reports/mine/numbers.yaml")
    assert "estimate_table" in SECTION_KINDS and "figures" in SECTION_KINDS


def test_a_number_declared_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text(
        "title: T\nnumbers:\n  a: {estimate: women_share}\n  a: {estimate: intend_stay}\n"
    )
    with pytest.raises(DeclarationError, match="'a' is declared twice"):
        load_declaration(path)


def test_placeholders_are_filled_only_from_declared_parameters(tmp_path: Path) -> None:
    data = declaration(
        {"share": {"estimate": "women_share", "group": {"country_label": "{country}"}}},
        parameters=["country"],
    )
    book, title = build_with(tmp_path, data, {"country": "Lao PDR"})
    assert book.findings["share"]["text"] == "20%" and title == "T 2025"
    undeclared = declaration({"share": {"estimate": "women_share", "column": "{__class__}"}})
    with pytest.raises(DeclarationError, match="\\{__class__\\} is not a parameter"):
        build_with(tmp_path, undeclared)
    with pytest.raises(DeclarationError, match="no entry in the wave's brief plan"):
        brief_parameters(parse_declaration(data, "x.yaml"), {"briefs": []}, "atlantis")


def test_a_document_quoting_an_undeclared_number_is_refused(tmp_path: Path) -> None:
    qmd = tmp_path / "mine.qmd"
    (tmp_path / "text").mkdir()
    qmd.write_text("{{< var share >}} and {{< include text/more.md >}}\n")
    (tmp_path / "text" / "more.md").write_text("{{< var shares >}} {{< var run_id >}}\n")
    decl = parse_declaration(declaration({"share": {"estimate": "women_share"}}), "x.yaml")
    with pytest.raises(DeclarationError, match="var shares >}} in .*more.md"):
        check_quoted_keys(decl, qmd, provided_keys(decl), RESERVED_KEYS)


def test_a_declared_number_may_word_its_suppression(tmp_path: Path) -> None:
    data = declaration(
        {
            "senior": {
                "estimate": "women_share",
                "group": {"rank_label": "Senior officer"},
                "suppressed": "too few senior officers to say",
            }
        }
    )
    book, _ = build_with(tmp_path, data)
    assert book.findings["senior"]["text"] == "too few senior officers to say"
    assert book.suppressed_cells == 1  # still counted as withheld


def test_the_shipped_declarations_use_only_registered_kinds() -> None:
    for kind in ("regional", "country"):
        data = yaml.safe_load((REPO / "reports" / kind / "numbers.yaml").read_text("utf-8"))
        assert {s["kind"] for s in data["sections"]} <= set(SECTION_KINDS)
        assert json.dumps(data)  # plain data, nothing to run


def test_a_table_by_a_breakdown_the_plan_does_not_make_names_the_breakdowns(
    tmp_path: Path,
) -> None:
    section = {
        "kind": "estimate_table",
        "name": "by_agency",
        "caption": "By agency",
        "estimate": "women_share",
        "by": "agency_label",
        "columns": [{"header": "Agency", "show": "group"}],
    }
    with pytest.raises(
        DeclarationError, match="table by_agency: .*no level 1 by 'agency_label'"
    ) as err:
        build_with(tmp_path, declaration({}, [section]))
    assert "its breakdowns are: (overall), border_posting, country_label, rank_label" in str(
        err.value
    )
    with pytest.raises(DeclarationError, match="section 1 \\(estimate_table\\).*'pie'"):
        parse_declaration(
            declaration({}, [{**section, "columns": [{"header": "A", "show": "pie"}]}]), "x.yaml"
        )


def test_a_number_whose_table_is_not_configured_is_left_out(tmp_path: Path) -> None:
    spec = {"table": "prepost", "row": {"statistic": "gain", "group": "all"}, "column": "n"}
    book, _ = build_with(tmp_path, declaration({"tests": {**spec, "needs": "attendance"}}))
    assert "tests" not in book.findings
    book, _ = build_with(tmp_path, declaration({"tests": {**spec, "format": "integer"}}))
    assert book.findings["tests"]["text"] == "508"


def test_a_picked_row_must_be_named_by_its_cited_columns(tmp_path: Path) -> None:
    """Every finding's source is one cell: `cite` columns that fit several rows are refused."""
    spec = {
        "table": "interviews_frequencies",
        "where": {"level": "theme", "sex": "All"},
        "order_by": "interviews_mentioning",
        "pick": 1,
        "column": "interviews_mentioning",
        "format": "count",
    }
    with pytest.raises(DeclarationError, match="`cite` \\(level, sex\\) name more than one row"):
        build_with(tmp_path, declaration({"top": spec}))
    book, _ = build_with(tmp_path, declaration({"top": {**spec, "cite": ["theme", "country"]}}))
    assert book.findings["top"]["text"] == "42"
    assert book.findings["top"]["source"]["row"] == {"theme": "Return", "country": "All"}
    with pytest.raises(DeclarationError, match="has no column 'mentions'"):
        build_with(tmp_path, declaration({"top": {**spec, "order_by": "mentions"}}))
