"""Model formulas are parsed against a whitelist, never run as code (issue 14, item 1).

The injection tests go through the public entry points (plan validation and model fitting),
so they fail on the code before the grammar existed: there patsy ran the command.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import numpy as np
import pandas as pd
import patsy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.config.formula_grammar import ALLOWED, FormulaError, check_formula, safe_eval_env
from analysis.config.plan import PlanError, load_plan, validate_plan
from analysis.survey.design import DesignError
from analysis.survey.estimate import run_models

PLAN = Path(__file__).resolve().parents[1] / "config" / "plan.yaml"
SENTINEL = "pwned.txt"

INJECTIONS = [
    # the issue's variant: still fits a normal-looking model on the old code
    "attitude_index ~ I(years_service + 0*__import__('os').system('id > pwned.txt'))",
    "attitude_index ~ women + I(0*len(open('pwned.txt', 'w').name) + years_service)",
    "__import__('os').system('id > pwned.txt') ~ women",
    "attitude_index ~ C(women, __import__('os').system('id > pwned.txt'))",
    "attitude_index ~ women + exec(\"open('pwned.txt', 'w')\")",
    "attitude_index ~ women + eval(\"open('pwned.txt', 'w')\")",
    "attitude_index ~ np.log(years_service + 1 + 0*len(open('pwned.txt', 'w').name))",
    "attitude_index ~ I(women + 0*len(getattr(__builtins__, 'open')('pwned.txt', 'w').name))",
    "attitude_index ~ I(years_service + 0*len(().__class__.__base__.__subclasses__()))",
]


def _officers(n: int = 240, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    women = rng.binomial(1, 0.3, n)
    years = rng.integers(1, 30, n)
    return pd.DataFrame(
        {
            "stratum": np.repeat([0, 1, 2], n // 3),
            "station_id": np.repeat(np.arange(24), n // 24),
            "weight": rng.uniform(5, 15, n),
            "women": women,
            "years_service": years,
            "age_band": np.array(["18-29", "30-39", "40+"])[rng.integers(0, 3, n)],
            "attitude_index": 3 + 0.3 * women + 0.02 * years + rng.normal(0, 0.5, n),
        }
    )


def _entry(formula: str) -> dict:
    design = {"weight": "weight", "strata": "stratum", "psu": "station_id", "lonely_psu": "adjust"}
    return {
        "design": design,
        "models": [{"id": "m", "formula": formula, "family": "gaussian"}],
    }


def _plan(formula: str) -> dict:
    return {"version": 1, "datasets": {"officer_survey": _entry(formula)}}


@pytest.mark.parametrize("formula", INJECTIONS)
def test_injection_is_refused_at_fit_time_and_runs_nothing(formula, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DesignError) as caught:
        run_models(_officers(), _entry(formula), dataset="officer_survey")
    assert not (tmp_path / SENTINEL).exists(), "the formula ran code"
    message = str(caught.value)
    assert "model 'm'" in message and "officer_survey" in message
    assert "is not allowed" in message and "allowed: column names" in message


@pytest.mark.parametrize("formula", INJECTIONS)
def test_injection_fails_plan_validation_naming_entry_and_piece(formula, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlanError) as caught:
        validate_plan(_plan(formula), source="config/plan.yaml")
    assert not (tmp_path / SENTINEL).exists()
    message = str(caught.value)
    assert "config/plan.yaml" in message
    assert "datasets.officer_survey.models[0] (id 'm')" in message
    assert repr(formula) in message or formula in message
    assert "is not allowed" in message


def test_issue_variant_names_the_dunder_piece():
    with pytest.raises(FormulaError) as caught:
        check_formula(INJECTIONS[0], where="datasets.officer_survey.models[1] (id 'attitude')")
    message = str(caught.value)
    assert "'__import__'" in message and "beginning with '_'" in message
    assert "datasets.officer_survey.models[1] (id 'attitude')" in message
    assert ALLOWED in message


@pytest.mark.parametrize(
    ("formula", "piece", "reason"),
    [
        ("y ~ x.real", "x.real", "attribute access"),
        ("y ~ np.linalg.inv(x)", "np.linalg.inv(x)", "attribute access"),
        ("y ~ I(np.exp(x))", "np.exp(x)", "attribute access"),
        ("y ~ x.__class__", "x.__class__", "beginning with '_'"),
        ("y ~ __builtins__", "__builtins__", "beginning with '_'"),
        ("y ~ I((lambda: x)())", "(lambda: x)()", "lambda"),
        ("y ~ x[0]", "x[0]", "subscripts"),
        ("y ~ I(x[0] + 1)", "x[0]", "subscripts"),
        ("y ~ I('text')", "'text'", "str literal"),
        ("y ~ I([a for a in x])", "[a for a in x]", "comprehensions"),
        ("y ~ print(x)", "print(x)", "not an allowed function"),
        ("y ~ bs(x, df=3)", "bs(x, df=3)", "not an allowed function"),
        ("y ~ Q('x')", "Q('x')", "not an allowed function"),
        ("y ~ I(x ** 10 ** 10)", "10 ** 10", "exponent"),
        ("y ~ I(x and z)", "x and z", "'and'/'or'"),
        ("y ~ C(x, Sum)", "Sum", "Treatment"),
        ("y ~ C(x, Treatment(z))", "Treatment(z)", "literal"),
    ],
)
def test_refusals_name_the_piece_and_the_reason(formula, piece, reason):
    with pytest.raises(FormulaError) as caught:
        check_formula(formula)
    assert repr(piece) in caught.value.problem
    assert reason in caught.value.problem
    assert "allowed: column names" in caught.value.hint


@pytest.mark.parametrize(
    ("formula", "columns"),
    [
        ("y ~ x", ("y", "x")),
        ("y ~ x + C(g) - 1", ("y", "x", "g")),
        ("y ~ x * C(g, Treatment('b')) + 0", ("y", "x", "g")),
        ("y ~ C(g, Treatment(reference=2)) + x:z", ("y", "g", "x", "z")),
        ("y ~ I(x**2) + I(api00 > 743) + I(x / 2 - z >= -1)", ("y", "x", "api00", "z")),
        ("y ~ np.log(x + 1) + sqrt(z) + log(x) + np.sqrt(x)", ("y", "x", "z")),
        ("y ~ center(x) + standardize(z) + scale(x)", ("y", "x", "z")),
        ("I(api00 > 743) ~ (x + z)**2", ("api00", "x", "z")),
    ],
)
def test_allowed_formulas_pass_with_their_columns(formula, columns):
    assert check_formula(formula).columns == columns


def test_every_formula_of_the_shipped_plan_passes():
    plan = load_plan(PLAN)
    formulas = [m["formula"] for entry in plan.values() for m in entry["models"]]
    assert formulas
    for formula in formulas:
        assert check_formula(formula).outcome


def test_unknown_column_at_fit_time_names_it_and_lists_the_columns():
    with pytest.raises(DesignError) as caught:
        run_models(_officers(), _entry("attitude_index ~ women + yeers_service"), "officer_survey")
    message = str(caught.value)
    assert "'yeers_service'" in message and "not a column" in message
    assert "years_service" in message.split("columns are:")[1]


def test_allowed_transforms_fit_through_the_safe_environment():
    data = _officers()
    formula = "attitude_index ~ women + np.log(years_service) + I(years_service**2)"
    entry = _entry(formula)
    ((terms, card),) = run_models(data, entry, "officer_survey").values()
    x = np.column_stack(
        [np.ones(len(data)), data.women, np.log(data.years_service), data.years_service**2]
    )
    wls = np.linalg.lstsq(
        x * np.sqrt(data.weight.to_numpy())[:, None],
        data.attitude_index * np.sqrt(data.weight.to_numpy()),
        rcond=None,
    )[0]
    np.testing.assert_allclose(terms["estimate"].to_numpy(), wls, rtol=1e-8)


def test_patsy_sees_only_the_whitelisted_names():
    namespace = safe_eval_env().namespace
    allowed = ["C", "I", "Treatment", "np", "log", "sqrt", "center", "standardize", "scale"]
    assert all(name in namespace for name in allowed)
    # names of the fitting module (and of this test) do not leak into a formula
    for name in ["pd", "patsy", "sm", "re", "DesignError", "check_formula", "os", "sys"]:
        assert name not in namespace
    assert sorted(vars(namespace["np"])) == ["log", "sqrt"]
    with pytest.raises(patsy.PatsyError):
        patsy.dmatrix("pd", {"x": [1.0, 2.0]}, eval_env=safe_eval_env())


# ---------------------------------------------------------------------------------------------
# Property: arbitrary text never runs; it either passes the grammar or raises FormulaError

ALLOWED_NODES = (
    ast.Expression,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Call,
    ast.Attribute,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.keyword,
    *(ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd),
    *(ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq),
)
CALLABLE = {"C", "I", "Treatment", "log", "sqrt", "center", "standardize", "scale", "np"}
TOKENS = [
    "y",
    "x",
    " ~ ",
    "+",
    "-",
    "*",
    "**",
    ":",
    "/",
    "(",
    ")",
    ".",
    ",",
    "'",
    '"',
    "[",
    "]",
    "0",
    "1",
    "__",
    "import",
    "os",
    "system",
    "I(",
    "C(",
    "np.log(",
    "lambda",
    "open",
    "exec",
    ">",
    "=",
    "==",
    "{",
    "}",
    "\\",
    "#",
    "@",
    ";",
    " ",
]


def _assert_structurally_safe(checked) -> None:
    """Independent re-check: only whitelisted node types; calls only to whitelisted names."""
    for term in [
        *patsy.ModelDesc.from_formula(checked.formula).lhs_termlist,
        *patsy.ModelDesc.from_formula(checked.formula).rhs_termlist,
    ]:
        for factor in term.factors:
            for node in ast.walk(ast.parse(factor.code, mode="eval")):
                assert isinstance(node, ALLOWED_NODES), ast.dump(node)
                if isinstance(node, ast.Name):
                    assert not node.id.startswith("_")
                if isinstance(node, ast.Attribute):
                    assert node.attr in ("log", "sqrt")
                    assert isinstance(node.value, ast.Name) and node.value.id == "np"
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else func.value.id
                    assert name in CALLABLE


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(alphabet=string.printable, max_size=80),
        st.lists(st.sampled_from(TOKENS), max_size=25).map("".join),
        st.lists(st.sampled_from(TOKENS), max_size=20).map(lambda t: "y ~ " + "".join(t)),
    )
)
def test_random_text_never_runs_and_fails_clearly(text):
    try:
        checked = check_formula(text)
    except FormulaError as exc:
        assert str(exc)
        return
    _assert_structurally_safe(checked)


@pytest.mark.parametrize("family", ["binomial", "poisson", "ordinal"])
def test_every_family_checks_the_formula_before_patsy(family, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = _entry("women ~ I(years_service + 0*__import__('os').system('id > pwned.txt'))")
    entry["models"][0]["family"] = family
    with pytest.raises(DesignError, match="is not allowed"):
        run_models(_officers(), entry, dataset="officer_survey")
    assert not (tmp_path / SENTINEL).exists()


def test_columns_with_a_double_underscore_inside_are_columns():
    # cleaning writes <field>__missing beside a field (why a value is missing)
    checked = check_formula("y ~ x + C(x__missing)", columns=["y", "x", "x__missing"])
    assert checked.columns == ("y", "x", "x__missing")
    with pytest.raises(FormulaError, match="beginning with '_'"):
        check_formula("y ~ x + _private")
