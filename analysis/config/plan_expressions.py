"""Derived variables declared in the analysis plan: a small expression language, never eval.

A dataset's plan entry may declare columns computed from the cleaned table before any estimate
or model runs; later entries may use earlier ones::

    derive:
      - {name: high_api, expr: "api00 > 743", label: "API above 743"}
      - {name: att_sum, expr: "att_a + att_b + att_c"}
      - {name: att_mean, expr: "mean_of(att_a, att_b, att_c, min=2)"}
      - {name: api_band, expr: "cut(api00, [0, 600, 800, 1000], ['low', 'mid', 'high'])"}
      - {name: region2, expr: "recode(region, {1: 'north', 2: 'north', 3: 'south'})"}
      - {name: senior, expr: "if_else(years_service >= 10 and not isna(rank), 1, 0)"}

The language: column names; numbers, text in quotes, ``True``/``False``; ``+ - * /``;
comparisons ``< <= > >= == !=`` (chained too) and ``in [..]`` / ``not in [..]``; ``and``,
``or``, ``not`` (or ``&``, ``|``, ``~``); and the functions

* ``isna(x)``, ``notna(x)``: 1 where missing (not missing), else 0; never missing itself;
* ``cut(x, breaks, labels)``: bands ``[b0, b1)``, ``[b1, b2)``, ... the last band also holds its
  upper break; values outside the breaks are missing; labels default to ``"[b0, b1)"``;
* ``recode(x, {old: new, ...}, other=...)``: values not in the mapping become ``other``
  (missing unless given);
* ``sum_of(a, b, ..., min=k)``, ``mean_of(a, b, ..., min=k)``: the sum or mean of the items
  answered, missing where fewer than ``k`` are answered (default: all items);
* ``if_else(condition, a, b)``: ``a`` where the condition holds, ``b`` where it does not.

Missing stays missing: arithmetic and comparisons with a missing value give missing (never
``False``), ``and``/``or`` follow three-valued logic (``False and NA`` is ``False``). A
true/false result is stored as 1/0 (``Int64``), like the other yes/no columns of the cleaned
tables. The text is parsed with :mod:`ast` against a whitelist of node types and evaluated by
walking the tree over pandas Series: no ``eval``, no attribute access, no other calls.
"""

from __future__ import annotations

import ast
import operator
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import WpsInputError

MAX_EXPRESSION_LENGTH = 2000
FUNCTIONS: dict[str, tuple[int, int | None, tuple[str, ...]]] = {
    # name: (fewest positional arguments, most (None: any), keywords)
    "isna": (1, 1, ()),
    "notna": (1, 1, ()),
    "cut": (2, 3, ("labels",)),
    "recode": (2, 2, ("other",)),
    "sum_of": (1, None, ("min",)),
    "mean_of": (1, None, ("min",)),
    "if_else": (3, 3, ()),
}
ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
ALLOWED = (
    "allowed: column names, numbers, 'text', True/False, + - * /, comparisons "
    "(< <= > >= == !=, in [...]), and/or/not (& | ~), isna(x), notna(x), "
    "cut(x, [breaks], [labels]), recode(x, {old: new}), sum_of(a, b, min=k), "
    "mean_of(a, b, min=k), if_else(condition, a, b)"
)


class ExpressionError(WpsInputError):
    """A derived variable that cannot be parsed or computed, naming the plan entry."""


class _Refused(Exception):
    """A piece of an expression outside the language (internal)."""

    def __init__(self, node: ast.AST, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# Parsing: the whitelist


def parse_expression(expr: object) -> ast.Expression:
    """Parse ``expr`` and check every node against the language; raise :class:`ExpressionError`.

    The message names the piece refused; callers add the plan entry (see
    :func:`apply_derivations`). Nothing is run.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ExpressionError("the expression must be non-empty text")
    if len(expr) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        with warnings.catch_warnings():  # odd literals warn; they are refused or read as numbers
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = getattr(exc, "msg", None) or type(exc).__name__
        raise ExpressionError(
            f"{expr!r} is not a valid expression ({detail})", hint=ALLOWED
        ) from None
    try:
        _no_dunder(tree)
        _check_value(tree.body)
    except _Refused as refused:
        piece = ast.get_source_segment(expr.strip(), refused.node) or expr
        raise ExpressionError(
            f"{piece!r} is not allowed ({refused.reason})", hint=ALLOWED
        ) from None
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply", hint=ALLOWED) from None
    return tree


def _no_dunder(tree: ast.AST) -> None:
    """Refuse any name or attribute beginning with ``_`` first (``__import__``, ``__class__``):
    the clearest sign of an attempt at code. Columns such as ``harassment__missing`` pass."""
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(name, str) and name.startswith("_"):
            raise _Refused(node, f"names beginning with '_' such as {name!r} are never allowed")


def expression_columns(tree: ast.Expression) -> list[str]:
    """Column names an expression reads, in order of first appearance."""
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in functions and node.id not in found:
            found.append(node.id)
    return found


def _check_value(node: ast.expr) -> None:
    """A node that yields a value (a column, a scalar, or a Series)."""
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _Refused(node, f"names beginning with '_' such as {node.id!r} are never allowed")
    elif isinstance(node, ast.Constant):
        _check_scalar(node)
    elif isinstance(node, ast.UnaryOp):
        _check_value(node.operand)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in (*ARITHMETIC, ast.BitAnd, ast.BitOr):
            raise _Refused(node, "only + - * / and & | are allowed between values")
        _check_value(node.left)
        _check_value(node.right)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check_value(value)
    elif isinstance(node, ast.Compare):
        _check_compare(node)
    elif isinstance(node, ast.Call):
        _check_call(node)
    else:
        raise _Refused(node, _reason(node))


def _check_scalar(node: ast.AST) -> None:
    value = node.operand if isinstance(node, ast.UnaryOp) else node
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.USub | ast.UAdd):
        raise _Refused(node, "a literal value must be a number, text or True/False")
    ok = isinstance(value, ast.Constant) and isinstance(value.value, bool | int | float | str)
    if not ok or (isinstance(node, ast.UnaryOp) and isinstance(value.value, str | bool)):
        raise _Refused(node, "a literal value must be a number, text or True/False")


def _check_compare(node: ast.Compare) -> None:
    _check_value(node.left)
    for op, right in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.In | ast.NotIn):
            _check_literal_list(right)
        elif type(op) in COMPARISONS:
            _check_value(right)
        else:
            raise _Refused(node, "only < <= > >= == != and in [...] compare values")


def _check_literal_list(node: ast.expr) -> None:
    if not isinstance(node, ast.List | ast.Tuple):
        raise _Refused(node, "a list of literal values [...] is expected here")
    for item in node.elts:
        _check_scalar(item)


def _check_literal_dict(node: ast.expr) -> None:
    if not isinstance(node, ast.Dict) or None in node.keys:
        raise _Refused(node, "a mapping of literal values {old: new, ...} is expected here")
    for item in [*node.keys, *node.values]:
        _check_scalar(item)


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        what = node.func.id if isinstance(node.func, ast.Name) else "this"
        raise _Refused(node, f"{what} is not an allowed function")
    name = node.func.id
    fewest, most, keywords = FUNCTIONS[name]
    n = len(node.args)
    if n < fewest or (most is not None and n > most):
        raise _Refused(node, f"{name}(...) takes {_arity(fewest, most)} arguments, not {n}")
    for keyword in node.keywords:
        if keyword.arg not in keywords:
            raise _Refused(node, f"{name}(...) takes no argument {keyword.arg!r}")
    for i, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            raise _Refused(arg, "starred arguments")
        _check_argument(name, i, arg)
    for keyword in node.keywords:
        _check_keyword(name, keyword)


def _check_argument(name: str, position: int, arg: ast.expr) -> None:
    if name == "cut" and position >= 1:
        _check_literal_list(arg)
    elif name == "recode" and position == 1:
        _check_literal_dict(arg)
    else:
        _check_value(arg)


def _check_keyword(name: str, keyword: ast.keyword) -> None:
    if keyword.arg == "labels":
        _check_literal_list(keyword.value)
    elif keyword.arg == "min":
        value = keyword.value
        if not (isinstance(value, ast.Constant) and type(value.value) is int and value.value >= 0):
            raise _Refused(value, f"min= of {name}(...) must be a whole number")
    else:
        _check_scalar(keyword.value)


def _arity(fewest: int, most: int | None) -> str:
    if most is None:
        return f"at least {fewest}"
    return str(fewest) if fewest == most else f"{fewest} to {most}"


def _reason(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripts [...]",
        ast.Lambda: "lambda functions",
        ast.ListComp: "comprehensions",
        ast.SetComp: "comprehensions",
        ast.DictComp: "comprehensions",
        ast.GeneratorExp: "comprehensions",
        ast.List: "lists outside cut(...) or 'in'",
        ast.Dict: "mappings outside recode(...)",
        ast.NamedExpr: "assignments",
        ast.IfExp: "if-else expressions (use if_else(condition, a, b))",
        ast.JoinedStr: "f-strings",
        ast.Await: "await",
        ast.Yield: "yield",
    }
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    return f"{type(node).__name__} expressions"


# ---------------------------------------------------------------------------------------------
# Evaluation: walking the checked tree over pandas Series


class _Evaluator:
    """Evaluate a checked tree over ``frame``'s columns with missing values kept missing."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.index = frame.index

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            return _nullable(self.frame[node.id])
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.BoolOp):
            return self._boolean(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return getattr(self, f"_{node.func.id}")(node)  # type: ignore[union-attr]
        raise _Refused(node, _reason(node))  # unreachable after parse_expression

    def series(self, node: ast.expr) -> pd.Series:
        return _broadcast(self.value(node), self.index)

    def condition(self, node: ast.expr) -> pd.Series:
        return _as_condition(self.series(node), node)

    def _unary(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Not | ast.Invert):
            return ~self.condition(node.operand)
        operand = _as_number(self.value(node.operand), node)
        return -operand if isinstance(node.op, ast.USub) else operand

    def _binary(self, node: ast.BinOp) -> Any:
        if isinstance(node.op, ast.BitAnd | ast.BitOr):
            left, right = self.condition(node.left), self.condition(node.right)
            return left & right if isinstance(node.op, ast.BitAnd) else left | right
        left = _as_number(self.value(node.left), node)
        right = _as_number(self.value(node.right), node)
        try:
            out = ARITHMETIC[type(node.op)](left, right)
        except (ZeroDivisionError, OverflowError) as exc:
            raise _Refused(node, f"cannot be computed ({exc})") from None
        return _no_infinity(out)

    def _boolean(self, node: ast.BoolOp) -> pd.Series:
        parts = [self.condition(value) for value in node.values]
        out = parts[0]
        for part in parts[1:]:
            out = out & part if isinstance(node.op, ast.And) else out | part
        return out

    def _compare(self, node: ast.Compare) -> pd.Series:
        out: pd.Series | None = None
        left = self.series(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                values = [ast.literal_eval(item) for item in right_node.elts]  # type: ignore[attr-defined]
                part = _isin(left, values, node)
                part = ~part if isinstance(op, ast.NotIn) else part
                right = left
            else:
                right = self.series(right_node)
                part = _comparison(COMPARISONS[type(op)], left, right, node)
            out = part if out is None else out & part
            left = right
        assert out is not None
        return out

    def _isna(self, node: ast.Call) -> pd.Series:
        return self.series(node.args[0]).isna().astype("Int64")

    def _notna(self, node: ast.Call) -> pd.Series:
        return self.series(node.args[0]).notna().astype("Int64")

    def _cut(self, node: ast.Call) -> pd.Series:
        breaks = ast.literal_eval(node.args[1])
        labels_node = node.args[2] if len(node.args) == 3 else _keyword(node, "labels")
        labels = ast.literal_eval(labels_node) if labels_node is not None else None
        return _cut(_numeric(self.series(node.args[0]), node), breaks, labels, node)

    def _recode(self, node: ast.Call) -> pd.Series:
        mapping = ast.literal_eval(node.args[1])
        other_node = _keyword(node, "other")
        other = ast.literal_eval(other_node) if other_node is not None else None
        return _recode(self.series(node.args[0]), mapping, other)

    def _sum_of(self, node: ast.Call) -> pd.Series:
        return self._items(node, "sum")

    def _mean_of(self, node: ast.Call) -> pd.Series:
        return self._items(node, "mean")

    def _items(self, node: ast.Call, how: str) -> pd.Series:
        items = pd.concat(
            [_numeric(self.series(arg), arg).astype("Float64") for arg in node.args], axis=1
        )
        min_node = _keyword(node, "min")
        needed = min_node.value if isinstance(min_node, ast.Constant) else len(node.args)
        answered = items.notna().sum(axis=1)
        total = items.sum(axis=1, skipna=True) if how == "sum" else items.mean(axis=1)
        return total.astype("Float64").mask(answered < max(needed, 1), pd.NA)

    def _if_else(self, node: ast.Call) -> pd.Series:
        cond = self.condition(node.args[0])
        yes, no = self.series(node.args[1]), self.series(node.args[2])
        if _is_text(yes) != _is_text(no):
            raise _Refused(node, "the two values of if_else must both be text or both numbers")
        chosen = yes.astype(object).where(cond.fillna(False).astype(bool), no.astype(object))
        chosen[cond.isna().to_numpy()] = pd.NA
        return _nullable(chosen)


def _no_infinity(value: Any) -> Any:
    """Division by zero gives missing, not an infinite value."""
    if isinstance(value, pd.Series) and pd.api.types.is_float_dtype(value):
        return value.mask(value.isin([np.inf, -np.inf]), pd.NA)
    return value


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _nullable(series: pd.Series) -> pd.Series:
    """The column with pandas' missing-aware dtypes (NA, never NaN-means-False)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(series.cat.categories.dtype)
    if pd.api.types.is_bool_dtype(series) and not pd.api.types.is_object_dtype(series):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(series):
        return series.astype("Float64")
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        return series.astype("string")
    if series.dtype == object:
        converted = series.convert_dtypes()
        if pd.api.types.is_string_dtype(converted):
            return converted.astype("string")
        return converted
    return series


def _broadcast(value: Any, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    return _nullable(pd.Series([value] * len(index), index=index, dtype=object))


def _is_text(value: Any) -> bool:
    if isinstance(value, pd.Series):
        return pd.api.types.is_string_dtype(value) or value.dtype == object
    return isinstance(value, str)


def _as_number(value: Any, node: ast.AST) -> Any:
    """An arithmetic operand: text refused, true/false counted as 1/0."""
    if _is_text(value):
        raise _Refused(node, "arithmetic on text")
    if isinstance(value, pd.Series) and isinstance(value.dtype, pd.BooleanDtype):
        return value.astype("Int64")
    return value


def _numeric(series: pd.Series, node: ast.AST) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("Int64")
    if not pd.api.types.is_numeric_dtype(series):
        raise _Refused(node, "a number is expected here, not text")
    return series


def _as_condition(series: pd.Series, node: ast.AST) -> pd.Series:
    """A true/false Series (``boolean``); 0/1 numbers count as false/true."""
    if isinstance(series.dtype, pd.BooleanDtype):
        return series
    if pd.api.types.is_numeric_dtype(series):
        present = series.dropna()
        if present.isin([0, 1]).all():
            return series.astype("Float64").astype("boolean")
    raise _Refused(node, "a true/false condition (or a 0/1 column) is expected here")


def _comparison(op: Callable, left: pd.Series, right: pd.Series, node: ast.AST) -> pd.Series:
    if _is_text(left) != _is_text(right):
        raise _Refused(node, "text is compared with a number")
    try:
        out = op(left, right)
    except TypeError as exc:
        raise _Refused(node, f"these values cannot be compared ({exc})") from None
    return out.astype("boolean")


def _isin(series: pd.Series, values: Sequence, node: ast.AST) -> pd.Series:
    if any(isinstance(v, str) != _is_text(series) for v in values):
        raise _Refused(node, "text is compared with a number")
    out = series.isin(values).astype("boolean")
    out[series.isna().to_numpy()] = pd.NA
    return out


def _cut(series: pd.Series, breaks: list, labels: list | None, node: ast.AST) -> pd.Series:
    """Left-closed bands ``[b_i, b_i+1)``; the last band holds its upper break too."""
    if len(breaks) < 2 or any(
        not isinstance(b, int | float) or isinstance(b, bool) for b in breaks
    ):
        raise _Refused(node, "cut(...) needs at least two numeric breaks")
    if any(a >= b for a, b in zip(breaks, breaks[1:], strict=False)):
        raise _Refused(node, "the breaks of cut(...) must increase")
    if labels is None:
        labels = [f"[{a}, {b})" for a, b in zip(breaks, breaks[1:], strict=False)]
    if len(labels) != len(breaks) - 1:
        raise _Refused(
            node, f"cut(...) has {len(breaks)} breaks, so it needs {len(breaks) - 1} labels"
        )
    values = series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    band = np.searchsorted(np.asarray(breaks, dtype=float), values, side="right") - 1
    band[values == breaks[-1]] = len(labels) - 1
    inside = ~np.isnan(values) & (band >= 0) & (band < len(labels))
    out = pd.Series(pd.NA, index=series.index, dtype=object)
    out[inside] = np.asarray(labels, dtype=object)[band[inside]]
    return _nullable(out)


def _recode(series: pd.Series, mapping: Mapping, other: Any) -> pd.Series:
    def one(value: Any) -> Any:
        if pd.isna(value):
            return pd.NA
        return mapping.get(value, pd.NA if other is None else other)

    return _nullable(series.astype(object).map(one).astype(object))


def _stored(series: pd.Series) -> pd.Series:
    """A derived column as stored: true/false as 1/0 (``Int64``)."""
    if isinstance(series.dtype, pd.BooleanDtype):
        return series.astype("Int64")
    return series


def evaluate(tree: ast.Expression, frame: pd.DataFrame) -> pd.Series:
    """Evaluate a tree from :func:`parse_expression` over ``frame`` (one value per row)."""
    return _stored(_broadcast(_Evaluator(frame).value(tree.body), frame.index))


# ---------------------------------------------------------------------------------------------
# The plan's derive list


def check_derivations(derive: Sequence[Mapping], dataset: str = "") -> list[ast.Expression]:
    """Parse every entry of a dataset's ``derive`` list (plan validation; no data needed)."""
    trees = []
    names: set[str] = set()
    for i, spec in enumerate(derive):
        here = _entry(dataset, i, spec)
        if spec["name"] in names:
            raise ExpressionError(
                f"{here}: the name {spec['name']!r} is derived twice",
                dataset=dataset,
                hint="give every derived variable its own name",
            )
        names.add(spec["name"])
        try:
            trees.append(parse_expression(spec["expr"]))
        except ExpressionError as exc:
            raise ExpressionError(f"{here}: {exc.problem}", dataset=dataset, hint=exc.hint) from exc
    return trees


def _entry(dataset: str, i: int, spec: Mapping) -> str:
    """``plan entry datasets.schools.derive[0] (name 'high_api'), expression 'api00 > 743'``."""
    where = f"datasets.{dataset}" if dataset else "datasets"
    return f"plan entry {where}.derive[{i}] (name {spec['name']!r}), expression {spec['expr']!r}"


def apply_derivations(frame: pd.DataFrame, plan_entry: Mapping, dataset: str = "") -> pd.DataFrame:
    """``frame`` with the columns of the entry's ``derive`` list added, in order.

    Raises :class:`ExpressionError` naming the dataset, the derive entry, the expression and,
    for an unknown column, the columns that exist.
    """
    derive = plan_entry.get("derive") or []
    if not derive:
        return frame
    out = frame.copy()
    for i, (spec, tree) in enumerate(zip(derive, check_derivations(derive, dataset), strict=True)):
        here = _entry(dataset, i, spec)
        _check_new_column(out, spec["name"], here, dataset)
        _check_known_columns(out, tree, here, dataset)
        try:
            out[spec["name"]] = evaluate(tree, out)
        except _Refused as refused:
            piece = ast.get_source_segment(spec["expr"].strip(), refused.node) or spec["expr"]
            raise ExpressionError(
                f"{here}: {piece!r}: {refused.reason}", dataset=dataset, hint=ALLOWED
            ) from None
        if spec.get("label"):
            out.attrs.setdefault("derived_labels", {})[spec["name"]] = spec["label"]
    return out


def _check_new_column(frame: pd.DataFrame, name: str, here: str, dataset: str) -> None:
    if name in frame.columns:
        raise ExpressionError(
            f"{here}: {name!r} is already a column of the table",
            dataset=dataset,
            hint="give the derived variable a new name (derived variables never overwrite data)",
        )


def _check_known_columns(
    frame: pd.DataFrame, tree: ast.Expression, here: str, dataset: str
) -> None:
    columns = [str(c) for c in frame.columns]
    unknown = [name for name in expression_columns(tree) if name not in columns]
    if unknown:
        shown = ", ".join(sorted(columns)[:80]) + (" ..." if len(columns) > 80 else "")
        raise ExpressionError(
            f"{here}: {', '.join(map(repr, unknown))} is not a column of the table; "
            f"columns are: {shown}",
            dataset=dataset,
            column=unknown[0],
            hint="correct the name (derived variables may use those derived before them)",
        )
