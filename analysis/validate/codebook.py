"""Codebooks: Frictionless Table Schemas with wps-evidence `x-` properties.

`load_codebook` checks a codebook against `schemas/codebook.schema.json` and a few rules a JSON
schema cannot express (primary key fields exist, codes fit the field type, one field per design
role, no two fields read the same raw column), then returns a `Codebook` whose helpers answer the
questions the pipeline asks.

Properties beyond Frictionless (see docs/codebook.md):

- `x-source-name`: the raw file's column for this field when it is not a valid name (`sch.wide`
  read as field `sch_wide`); applied at validation, so raw files are never edited.
- `x-missing-ranges`: user-missing ranges, `[{"low": 2000, "high": 3000, "label": "..."}]`
  (SPSS `MISSING VALUES x (2000 THRU 3000)`), both ends included.
- `x-identifier: review` with `x-identifier-reason`: a drafted field that may identify a person;
  a person decides (`direct`, `indirect` or `none`) before the pipeline uses the codebook.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from analysis.errors import CodebookError

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "codebook.schema.json"
FIELD_TYPES = ("integer", "number", "string", "date", "datetime", "boolean")
DESIGN_ROLES = ("weight", "stratum", "psu", "fpc")
UNDECIDED = "review"
TRUE_STRINGS = frozenset({"true", "1", "yes"})
FALSE_STRINGS = frozenset({"false", "0", "no"})


@cache
def codebook_schema() -> dict[str, Any]:
    """The JSON schema every codebook must satisfy."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def convert_code(value: Any, field_type: str) -> Any:
    """Convert a code (a string in Table Schema, or a JSON value) to the field's Python type.

    Raises ValueError when the code does not fit the type.
    """
    if field_type == "integer":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an integer")
        number = float(value)
        if not math.isfinite(number) or number != int(number):
            raise ValueError(f"{value!r} is not an integer")
        return int(number)
    if field_type == "number":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if field_type == "date":
        return dt.date.fromisoformat(str(value))
    if field_type == "datetime":
        return dt.datetime.fromisoformat(str(value))
    return str(value)


@dataclass(frozen=True)
class Field:
    """One variable of a codebook."""

    name: str
    type: str
    title: str = ""
    description: str = ""
    required: bool = False
    unique: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None
    categories: tuple[tuple[Any, str], ...] = ()
    missing_values: tuple[tuple[str, str], ...] = ()
    missing_ranges: tuple[tuple[float, float, str], ...] = ()
    identifier: str = "none"
    identifier_reason: str = ""
    source_name: str = ""
    sensitive: bool = False
    role: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def missing_codes(self) -> list[Any]:
        """User-missing codes converted to the field type (codes that do not convert stay text).

        The empty string is left out: a blank cell is system-missing, not a code.
        """
        codes = []
        for code, _label in self.missing_values:
            if code == "":
                continue
            try:
                codes.append(convert_code(code, self.type))
            except ValueError:
                codes.append(code)
        return codes

    def missing_labels(self) -> dict[str, str]:
        """User-missing codes as written in the codebook (strings) -> label."""
        return {code: label for code, label in self.missing_values if code != ""}

    def column(self) -> str:
        """The raw file's column for this field: `x-source-name`, else the field name."""
        return self.source_name or self.name

    def missing_reason(self, code: str) -> str | None:
        """The label of a user-missing code written as text (`"99"`), from the codes, then the
        ranges (a code inside a range keeps its own value label: 98 'Refused' in 97 thru 99);
        None when the code is not user-missing."""
        labels = self.missing_labels()
        if code in labels:
            return labels[code]
        number = _as_number(code)
        if number is None:
            return None
        for low, high, label in self.missing_ranges:
            if low <= number <= high:
                own = [name for value, name in self.categories if _as_number(value) == number]
                return own[0] if own else label
        return None

    def labels(self) -> dict[Any, str]:
        """Category value (typed) -> label."""
        return dict(self.categories)

    def allowed_values(self) -> tuple[Any, ...] | None:
        """Valid (non-missing) values: `constraints.enum`, else the category values, else None."""
        if self.enum is not None:
            return self.enum
        if self.categories:
            return tuple(value for value, _label in self.categories)
        return None


@dataclass(frozen=True)
class Codebook:
    """A dataset's codebook: fields in file order plus table-level properties."""

    name: str
    fields: dict[str, Field]
    primary_key: tuple[str, ...] = ()
    title: str = ""
    description: str = ""
    synthetic: bool = False
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def _field(self, name: str | Field) -> Field:
        if isinstance(name, Field):
            return name
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"codebook {self.name!r} has no field {name!r}") from None

    def undecided(self) -> list[Field]:
        """Fields whose identifier status a person must still decide (`x-identifier: review`)."""
        return [f for f in self.fields.values() if f.identifier == UNDECIDED]

    def direct_identifiers(self) -> list[str]:
        """Fields dropped in cleaning (names, phones, free text)."""
        return [n for n, f in self.fields.items() if f.identifier == "direct"]

    def indirect_identifiers(self) -> list[str]:
        """Fields replaced (IDs: keyed pseudonym) or coarsened (exact ages) in cleaning."""
        return [n for n, f in self.fields.items() if f.identifier == "indirect"]

    def role(self, role: str) -> str | None:
        """The field with design role `role` (weight, stratum, psu, fpc, id), or None."""
        for name, f in self.fields.items():
            if f.role == role:
                return name
        return None

    def missing_codes(self, name: str | Field) -> list[Any]:
        """User-missing codes of a field, typed."""
        return self._field(name).missing_codes()

    def labels(self, name: str | Field) -> dict[Any, str]:
        """Category value -> label of a field (empty for uncoded fields)."""
        return self._field(name).labels()


def _pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) for a jsonschema error path."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else "/"


def _fail(path: Path | str, pointer: str, problem: str) -> CodebookError:
    return CodebookError(
        f"codebook problem at JSON pointer {pointer}: {problem}",
        file=str(path),
        hint="fix the codebook so it follows docs/architecture.md (Codebook format) and "
        "analysis/schemas/codebook.schema.json",
    )


def _as_number(text: Any) -> float | None:
    """A code as a finite number, or None when it is not one."""
    if isinstance(text, bool):
        return None
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def range_label(low: float, high: float) -> str:
    """The label a user-missing range gets when it has none (`user-missing 2000 thru 3000`)."""
    show = lambda v: str(int(v)) if float(v).is_integer() else repr(float(v))  # noqa: E731
    return f"user-missing {show(low)} thru {show(high)}"


def _missing_ranges(spec: list[dict[str, Any]]) -> tuple[tuple[float, float, str], ...]:
    return tuple(
        (float(r["low"]), float(r["high"]), r.get("label") or range_label(r["low"], r["high"]))
        for r in spec
    )


def _missing_values(spec: list[Any]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in spec:
        if isinstance(item, dict):
            out.append((item["value"], item.get("label", item["value"])))
        else:
            out.append((item, item))
    return tuple(out)


def _build_field(spec: dict[str, Any], index: int, table_missing: list[Any], path: Any) -> Field:
    name, ftype = spec["name"], spec["type"]
    cons = spec.get("constraints", {})
    base = f"/fields/{index}"

    def typed(value: Any, where: str) -> Any:
        try:
            return convert_code(value, ftype)
        except (ValueError, TypeError) as exc:
            raise _fail(path, where, f"{value!r} does not fit type {ftype} of {name!r}") from exc

    enum = None
    if "enum" in cons:
        enum = tuple(typed(v, f"{base}/constraints/enum/{i}") for i, v in enumerate(cons["enum"]))
    categories = []
    for i, cat in enumerate(spec.get("categories", [])):
        value, label = (cat["value"], cat.get("label")) if isinstance(cat, dict) else (cat, None)
        value = typed(value, f"{base}/categories/{i}/value")
        categories.append((value, str(label if label is not None else value)))
    bounds = {}
    for key in ("minimum", "maximum"):
        if key in cons:
            bounds[key] = typed(cons[key], f"{base}/constraints/{key}")
    mv_spec = spec.get("missingValues", table_missing)
    return Field(
        name=name,
        type=ftype,
        title=spec.get("title", ""),
        description=spec.get("description", ""),
        required=bool(cons.get("required", False)),
        unique=bool(cons.get("unique", False)),
        enum=enum,
        minimum=bounds.get("minimum"),
        maximum=bounds.get("maximum"),
        max_length=cons.get("maxLength"),
        categories=tuple(categories),
        missing_values=_missing_values(mv_spec),
        missing_ranges=_missing_ranges(spec.get("x-missing-ranges", [])),
        identifier=spec.get("x-identifier", "none"),
        identifier_reason=spec.get("x-identifier-reason", ""),
        source_name=spec.get("x-source-name", ""),
        sensitive=bool(spec.get("x-sensitive", False)),
        role=spec.get("x-role"),
        raw=spec,
    )


def _check_source_names(fields: dict[str, Field], path: Path | str) -> None:
    """Each raw column is read by one field at most, and a range has low <= high."""
    readers: dict[str, str] = {}
    for index, f in enumerate(fields.values()):
        column = f.column()
        if column in readers:
            raise _fail(
                path,
                f"/fields/{index}/x-source-name",
                f"fields {readers[column]!r} and {f.name!r} both read the raw column {column!r}",
            )
        readers[column] = f.name
        for i, (low, high, _label) in enumerate(f.missing_ranges):
            if low > high:
                raise _fail(
                    path,
                    f"/fields/{index}/x-missing-ranges/{i}",
                    f"range low {low} is above high {high}",
                )


def codebook_from_dict(spec: dict[str, Any], path: Path | str = "<codebook>") -> Codebook:
    """Check a codebook dict against the schema and build a `Codebook`; raises CodebookError."""
    validator = jsonschema.Draft202012Validator(codebook_schema())
    errors = sorted(validator.iter_errors(spec), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise _fail(path, _pointer(first.absolute_path), first.message + more)

    fields: dict[str, Field] = {}
    table_missing = spec.get("missingValues", [])
    for index, fspec in enumerate(spec["fields"]):
        if fspec["name"] in fields:
            raise _fail(path, f"/fields/{index}/name", f"field {fspec['name']!r} is defined twice")
        fields[fspec["name"]] = _build_field(fspec, index, table_missing, path)

    key = spec.get("primaryKey", [])
    key = (key,) if isinstance(key, str) else tuple(key)
    for i, name in enumerate(key):
        if name not in fields:
            raise _fail(path, f"/primaryKey/{i}", f"primary key field {name!r} is not a field")

    for index, f in enumerate(fields.values()):
        consent = f.raw.get("x-consent")
        if consent is not None and consent not in fields:
            raise _fail(
                path, f"/fields/{index}/x-consent", f"consent field {consent!r} is not a field"
            )
    _check_source_names(fields, path)
    for role in DESIGN_ROLES:
        holders = [i for i, f in enumerate(fields.values()) if f.role == role]
        if len(holders) > 1:
            raise _fail(
                path, f"/fields/{holders[1]}/x-role", f"more than one field has x-role {role!r}"
            )
    return Codebook(
        name=spec["name"],
        fields=fields,
        primary_key=key,
        title=spec.get("title", ""),
        description=spec.get("description", ""),
        synthetic=bool(spec.get("x-synthetic", False)),
        path=Path(path) if not isinstance(path, Path) else path,
        raw=spec,
    )


def load_codebook(path: Path) -> Codebook:
    """Read and check `data/raw/<dataset>/codebook.json`; raises CodebookError naming the spot."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _fail(path, "/", "file not found") from exc
    except json.JSONDecodeError as exc:
        raise _fail(path, "/", f"not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    return codebook_from_dict(spec, path)
