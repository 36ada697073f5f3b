"""Model formulas checked against a whitelist before patsy sees them: never run as code.

patsy evaluates every term of a formula as Python (``I(x + __import__('os').system(...))``
would run a command), so a formula from the analysis plan is parsed first, without running
anything: patsy's own formula parser splits it into the pieces patsy would evaluate, and each
piece is read with :func:`ast.parse` and walked against this grammar:

* ``outcome ~ terms``; the outcome is one column (or one allowed expression below);
* a column name: ``women``;
* ``C(column)``, ``C(column, Treatment('level'))``, ``C(column, Treatment(reference=2))``;
* interactions ``a:b`` and ``a*b``, grouping ``(a + b)``, no intercept with ``- 1`` or ``+ 0``;
* ``I(...)`` holding only column names, numbers, ``+ - * / **`` (a power's exponent a number
  of at most 100) and comparisons ``< <= > >= == !=``: ``I(x**2)``, ``I(api00 > 743)``;
* the transforms ``log``, ``sqrt``, ``np.log``, ``np.sqrt``, ``center``, ``standardize``,
  ``scale`` of a column or of such an arithmetic expression: ``np.log(income + 1)``.

Anything else (other functions, attribute access, subscripts, strings outside ``Treatment``,
lambdas, comprehensions, names beginning with ``_`` such as ``__import__``) is refused with
:class:`FormulaError`.

:func:`check_formula` does the check; :func:`safe_eval_env` is the only namespace patsy gets
(the transforms above and patsy's ``C``/``I``/``Treatment``), so nothing from the calling
module leaks into a formula.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import patsy
from patsy import builtins as patsy_builtins

from analysis.errors import WpsInputError

MAX_FORMULA_LENGTH = 2000
MAX_EXPONENT = 100
NUMPY_TRANSFORMS = ("log", "sqrt")  # allowed as np.<name>(...) and as <name>(...)
STATEFUL_TRANSFORMS = ("center", "standardize", "scale")
TRANSFORMS = (*NUMPY_TRANSFORMS, *STATEFUL_TRANSFORMS)
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
ALLOWED = (
    "allowed: column names; C(column) or C(column, Treatment('level')); interactions a:b and "
    "a*b; '- 1' or '+ 0' for no intercept; I(...) holding only column names, numbers, "
    "+ - * / ** and comparisons (< <= > >= == !=); the transforms log, sqrt, np.log, np.sqrt, "
    "center, standardize, scale"
)


class FormulaError(WpsInputError):
    """A model formula outside the allowed grammar, naming the piece refused."""


@dataclass(frozen=True)
class CheckedFormula:
    """A formula that passed the grammar, with the columns it names (outcome first)."""

    formula: str
    outcome: str
    columns: tuple[str, ...]


class _Refused(Exception):
    """A piece of a term outside the grammar (internal: turned into a FormulaError)."""

    def __init__(self, node: ast.AST, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


def safe_eval_env() -> patsy.EvalEnvironment:
    """The only names a checked formula can reach when patsy evaluates it."""
    namespace: dict[str, object] = {
        "C": patsy_builtins.C,
        "I": patsy_builtins.I,
        "Treatment": patsy_builtins.Treatment,
        "np": SimpleNamespace(**{name: getattr(np, name) for name in NUMPY_TRANSFORMS}),
    }
    namespace.update({name: getattr(np, name) for name in NUMPY_TRANSFORMS})
    namespace.update({name: getattr(patsy_builtins, name) for name in STATEFUL_TRANSFORMS})
    return patsy.EvalEnvironment([namespace])


def check_formula(
    formula: object, columns: Collection[str] | None = None, *, where: str = ""
) -> CheckedFormula:
    """Check ``formula`` against the grammar (and ``columns``, when the data are known).

    ``where`` names the plan entry in messages. Raises :class:`FormulaError`; runs nothing.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(formula, str):
        raise FormulaError(f"{prefix}the formula must be text, not {type(formula).__name__}")
    if len(formula) > MAX_FORMULA_LENGTH:
        raise FormulaError(
            f"{prefix}formula of {len(formula)} characters is longer than {MAX_FORMULA_LENGTH}",
            hint="shorten it; derive long expressions in the plan's 'derive' list",
        )
    desc = _model_desc(formula, prefix)
    if len(desc.lhs_termlist) != 1 or len(desc.lhs_termlist[0].factors) != 1:
        raise FormulaError(
            f"{prefix}formula {formula!r} needs exactly one outcome before '~'",
            hint="write it as 'outcome ~ term + C(factor)'",
        )
    found: list[str] = []
    for code in _factor_codes(desc):
        for name in _checked_piece(code, formula, prefix):
            if name not in found:
                found.append(name)
    if columns is not None:
        _check_columns(found, columns, formula, prefix)
    return CheckedFormula(formula, desc.lhs_termlist[0].factors[0].code, tuple(found))


def _model_desc(formula: str, prefix: str) -> patsy.ModelDesc:
    """patsy's parse of the formula structure (tokenises only; evaluates nothing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            return patsy.ModelDesc.from_formula(formula)
    except Exception as exc:  # noqa: BLE001 (any parse failure is a malformed formula)
        raise FormulaError(
            f"{prefix}formula {formula!r} is not valid patsy formula syntax: {_first_line(exc)}",
            hint=f"write it as 'outcome ~ term + C(factor)'; {ALLOWED}",
        ) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _factor_codes(desc: patsy.ModelDesc) -> Iterator[str]:
    """The code of every factor patsy would evaluate, outcome first."""
    for term in [*desc.lhs_termlist, *desc.rhs_termlist]:
        for factor in term.factors:
            code = getattr(factor, "code", None)
            if not isinstance(code, str):
                raise FormulaError(f"unexpected formula factor {factor!r}", hint=ALLOWED)
            yield code


def _checked_piece(code: str, formula: str, prefix: str) -> list[str]:
    """Column names of one factor's code; refuse anything outside the grammar."""
    try:
        with warnings.catch_warnings():  # odd literals warn; the grammar refuses them anyway
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(code, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise FormulaError(
            f"{prefix}formula {formula!r}: the term {code!r} is not a valid expression",
            hint=ALLOWED,
        ) from exc
    names: list[str] = []
    try:
        _no_dunder_anywhere(tree)
        _factor(tree.body, names)
    except _Refused as refused:
        piece = ast.get_source_segment(code, refused.node) or code
        raise FormulaError(
            f"{prefix}formula {formula!r}: {piece!r} is not allowed ({refused.reason})",
            hint=f"{ALLOWED}; derive other variables in the plan's 'derive' list",
        ) from None
    except RecursionError:
        raise FormulaError(
            f"{prefix}formula {formula!r}: the term {code!r} is nested too deeply", hint=ALLOWED
        ) from None
    return names


def _factor(node: ast.expr, names: list[str]) -> None:
    """A whole term factor: a column, C(...), I(...) or a transform call."""
    if isinstance(node, ast.Name):
        _column(node, names)
    elif isinstance(node, ast.Call):
        _call(node, names)
    else:
        raise _Refused(node, _reason(node) + "; wrap arithmetic in I(...)")


def _call(node: ast.Call, names: list[str]) -> None:
    func = _function_name(node)
    if func == "C":
        _factor_call(node, names)
        return
    if func not in ("I", *TRANSFORMS, *(f"np.{n}" for n in NUMPY_TRANSFORMS)):
        raise _Refused(node, f"{func or 'this'} is not an allowed function")
    if node.keywords or len(node.args) != 1:
        raise _Refused(node, f"{func}(...) takes exactly one argument")
    _arithmetic(node.args[0], names)


def _function_name(node: ast.Call) -> str:
    """``C``, ``log`` or ``np.log``; refuse any other attribute access or call target."""
    func = node.func
    if isinstance(func, ast.Name):
        _no_dunder(func, func.id)
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        dotted = f"{func.value.id}.{func.attr}"
        if func.value.id == "np" and func.attr in NUMPY_TRANSFORMS:
            return dotted
        raise _Refused(node, f"attribute access {dotted!r} (only np.log and np.sqrt)")
    raise _Refused(node, _reason(func))


def _factor_call(node: ast.Call, names: list[str]) -> None:
    """``C(column)`` or ``C(column, Treatment(level))``."""
    if node.keywords or not 1 <= len(node.args) <= 2 or not isinstance(node.args[0], ast.Name):
        raise _Refused(node, "C(...) takes a column name and optionally Treatment('level')")
    _column(node.args[0], names)
    if len(node.args) == 2:
        _treatment(node.args[1])


def _treatment(node: ast.expr) -> None:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise _Refused(node, "the second argument of C(...) must be Treatment('level')")
    if node.func.id != "Treatment":
        raise _Refused(node, f"{node.func.id!r} is not allowed in C(...): only Treatment")
    values = [*node.args, *(k.value for k in node.keywords)]
    keywords_ok = all(k.arg == "reference" for k in node.keywords)
    if len(values) != 1 or not keywords_ok or not _is_literal_level(values[0]):
        raise _Refused(node, "Treatment takes one reference level: a text or number literal")


def _is_literal_level(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return False
    return isinstance(node.value, int | float) or (
        isinstance(node.value, str) and len(node.value) <= 200
    )


def _arithmetic(node: ast.expr, names: list[str]) -> None:
    """Column names, numbers, + - * / **, comparisons and the numeric transforms."""
    if isinstance(node, ast.Name):
        _column(node, names)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _Refused(node, f"{type(node.value).__name__} literal (only numbers)")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _arithmetic(node.operand, names)
    elif isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        _arithmetic(node.left, names)
        if isinstance(node.op, ast.Pow):
            _exponent(node.right)
        else:
            _arithmetic(node.right, names)
    elif isinstance(node, ast.Compare) and all(isinstance(op, COMPARISONS) for op in node.ops):
        for part in [node.left, *node.comparators]:
            _arithmetic(part, names)
    elif isinstance(node, ast.Call):
        func = _function_name(node)
        if func not in (*NUMPY_TRANSFORMS, *(f"np.{n}" for n in NUMPY_TRANSFORMS)):
            raise _Refused(node, f"{func} is not allowed inside an expression (log, sqrt only)")
        if node.keywords or len(node.args) != 1:
            raise _Refused(node, f"{func}(...) takes exactly one argument")
        _arithmetic(node.args[0], names)
    else:
        raise _Refused(node, _reason(node))


def _exponent(node: ast.expr) -> None:
    """A power's exponent: a number literal of at most ``MAX_EXPONENT`` in size."""
    value = node.operand if isinstance(node, ast.UnaryOp) else node
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.USub | ast.UAdd):
        raise _Refused(node, "a power's exponent must be a number")
    ok = (
        isinstance(value, ast.Constant)
        and isinstance(value.value, int | float)
        and not isinstance(value.value, bool)
        and abs(value.value) <= MAX_EXPONENT
    )
    if not ok:
        raise _Refused(node, "a power's exponent must be a number between -100 and 100")


def _column(node: ast.Name, names: list[str]) -> None:
    _no_dunder(node, node.id)
    if node.id not in names:
        names.append(node.id)


def _no_dunder_anywhere(tree: ast.AST) -> None:
    """Refuse any name or attribute beginning with ``_`` first (``__import__``, ``__class__``):
    the clearest sign of an attempt at code. Columns such as ``harassment__missing`` pass."""
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(name, str):
            _no_dunder(node, name)


def _no_dunder(node: ast.AST, name: str) -> None:
    if name.startswith("_"):
        raise _Refused(node, f"names beginning with '_' such as {name!r} are never allowed")


def _reason(node: ast.AST) -> str:
    """Why a node is refused, in words a plan author understands."""
    kinds = {
        ast.Attribute: "attribute access (only np.log and np.sqrt)",
        ast.Subscript: "subscripts [...]",
        ast.Lambda: "lambda functions",
        ast.Constant: "literals outside I(...) or Treatment(...)",
        ast.ListComp: "comprehensions",
        ast.SetComp: "comprehensions",
        ast.DictComp: "comprehensions",
        ast.GeneratorExp: "comprehensions",
        ast.BoolOp: "'and'/'or' (use comparisons inside I(...))",
        ast.Starred: "starred arguments",
        ast.NamedExpr: "assignments",
        ast.IfExp: "if-else expressions",
    }
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    return f"{type(node).__name__} expressions"


def _check_columns(found: list[str], columns: Collection[str], formula: str, prefix: str) -> None:
    available = [str(c) for c in columns]
    missing = [name for name in found if name not in available]
    if missing:
        shown = ", ".join(sorted(available)[:60]) + (" ..." if len(available) > 60 else "")
        raise FormulaError(
            f"{prefix}formula {formula!r} names {', '.join(map(repr, missing))}, not a column "
            f"of the data; columns are: {shown}",
            hint="correct the name, or declare it in the plan's 'derive' list",
        )
