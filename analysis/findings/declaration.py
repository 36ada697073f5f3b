"""A brief's declaration: the numbers its Quarto document quotes, each named by the table cell
it comes from, its format and its wording when withheld (reports/<kind>/numbers.yaml).

The file is YAML checked against analysis/schemas/brief.schema.json; the section kinds it lists
are checked against their own schemas in analysis.findings.sections. Parameters (a country
brief's country) and {wave} are filled in by plain substitution: nothing in it is run as code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from analysis.errors import WpsInputError
from analysis.findings.words import PLACEHOLDER, fill

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "brief.schema.json"
DECLARATION = "numbers.yaml"  # beside the brief kind's .qmd
SOURCES = ("estimate", "model", "card", "table")
BUILTIN = ("wave", "previous_wave", "threshold", "threshold_interviews")
VAR = re.compile(r"\{\{<\s*var\s+([\w.-]+)\s*>\}\}")
INCLUDE = re.compile(r"\{\{<\s*include\s+(.*?)\s*>\}\}")


class DeclarationError(WpsInputError):
    """A brief declaration that is malformed or asks for a cell the tables do not have."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML safe loading that refuses a key given twice (YAML would keep the last silently)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` (its keys may be overridden)
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"'{key}' is declared twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _where(path: Iterable[Any], data: Mapping[str, Any]) -> str:
    """'number women_share' or 'section 2 (estimate_table)' for an error path."""
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "numbers":
        return f"number '{parts[1]}'" + "".join(f".{p}" for p in parts[2:])
    if len(parts) >= 2 and parts[0] == "sections":
        kind = data["sections"][parts[1]].get("kind", "?")
        return f"section {parts[1] + 1} ({kind})" + "".join(f".{p}" for p in parts[2:])
    return ".".join(map(str, parts)) or "(top level)"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and list(error.absolute_path)[:1] == ["numbers"]:
        return (
            "name exactly one source: estimate, model with term, card with field, or table "
            f"(it has: {', '.join(k for k in SOURCES if k in error.instance) or 'none'})"
        )
    return error.message


@dataclass(frozen=True)
class Declaration:
    """A brief kind's declared numbers and sections (validated, placeholders not yet filled)."""

    path: str
    title: str
    numbers: dict[str, dict[str, Any]]
    sections: list[dict[str, Any]] = field(default_factory=list)
    parameters: tuple[str, ...] = ()
    words: dict[str, str] = field(default_factory=dict)

    def error(self, where: str, problem: str, hint: str = "") -> DeclarationError:
        return DeclarationError(f"{where}: {problem}", file=self.path, hint=hint)

    def bind(self, values: Mapping[str, Any]) -> Declaration:
        """A copy with every {name} filled from the parameters and built-in names."""
        missing = [p for p in self.parameters if p not in values]
        if missing:
            raise self.error(
                "(top level)",
                f"parameters {missing} have no value for this brief",
                hint="a parameter's value comes from the brief's entry in the wave's brief plan.",
            )
        allowed = {**{k: str(v) for k, v in values.items() if v is not None}}

        def walk(node: Any, where: str) -> Any:
            if isinstance(node, str):
                try:
                    return fill(node, allowed)
                except KeyError as exc:
                    raise self.error(
                        where,
                        f"{{{exc.args[0]}}} is not a parameter of this brief",
                        hint=f"the names it may use are: {', '.join(sorted(allowed))}; declare "
                        "a parameter under `parameters:` or write the word out.",
                    ) from None
            if isinstance(node, list):
                return [walk(item, where) for item in node]
            if isinstance(node, dict):
                return {k: walk(v, where) for k, v in node.items()}
            return node

        return Declaration(
            path=self.path,
            title=walk(self.title, "title"),
            numbers={k: walk(v, f"number '{k}'") for k, v in self.numbers.items()},
            sections=[
                walk(s, f"section {i + 1} ({s['kind']})") for i, s in enumerate(self.sections)
            ],
            parameters=self.parameters,
            words=dict(self.words),
        )


def parse_declaration(data: Any, path: str) -> Declaration:
    """Check a parsed declaration against its schema and the section kinds' own schemas."""
    from analysis.findings.sections import check_section  # sections imports this module

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{_where(e.absolute_path, data)}: {_message(e)}" for e in errors[:10]]
        raise DeclarationError(
            "the brief's declaration does not match its schema:\n  " + "\n  ".join(lines),
            file=path,
            hint="correct these entries (schema: analysis/schemas/brief.schema.json; "
            "docs/own-study.md explains each field).",
        )
    declaration = Declaration(
        path=path,
        title=data["title"],
        numbers={k: dict(v) for k, v in data["numbers"].items()},
        sections=[dict(s) for s in data.get("sections") or []],
        parameters=tuple(data.get("parameters") or ()),
        words=dict(data.get("words") or {}),
    )
    for i, section in enumerate(declaration.sections):
        check_section(declaration, i, section)
    return declaration


def load_declaration(path: str | Path) -> Declaration:
    """Read and check a brief's numbers.yaml."""
    path = Path(path)
    if not path.is_file():
        raise DeclarationError(
            "the brief has no declaration of its numbers",
            file=str(path),
            hint="write numbers.yaml beside the brief's .qmd (docs/own-study.md, "
            "'Quoting numbers in your own words').",
        )
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise DeclarationError(f"not valid YAML: {exc}", file=str(path)) from None
    return parse_declaration(data, str(path))


def declaration_path(project: Path) -> Path:
    """Where a brief kind's declaration lives: beside its Quarto document."""
    return project / DECLARATION


def placeholders(text: str) -> set[str]:
    """The {name} placeholders of a text."""
    return set(PLACEHOLDER.findall(text))


def quoted_keys(qmd: Path) -> dict[str, str]:
    """Every {{< var key >}} of a brief document and the authored files it includes, with the
    file that quotes it (includes the run writes, such as _sections/, are not followed)."""
    keys: dict[str, str] = {}
    pending, seen = [qmd], set()
    while pending:
        source = pending.pop()
        if source in seen or not source.is_file():
            continue
        seen.add(source)
        text = source.read_text(encoding="utf-8")
        for key in VAR.findall(text):
            keys.setdefault(key, str(source))
        for rel in INCLUDE.findall(text):
            pending.append(source.parent / rel.strip().strip("\"'"))
    return keys


def check_quoted_keys(
    declaration: Declaration, qmd: Path, provided: Iterable[str], builtin: Iterable[str]
) -> None:
    """Refuse a brief whose document quotes a key that nothing declares or provides; `provided`
    holds exact keys and prefixes ending in '*'."""
    exact = set(declaration.numbers) | set(builtin)
    prefixes = []
    for key in provided:
        (prefixes.append(key[:-1]) if key.endswith("*") else exact.add(key))
    unknown = {
        key: where
        for key, where in quoted_keys(qmd).items()
        if key not in exact and not any(key.startswith(p) for p in prefixes)
    }
    if unknown:
        listed = "; ".join(f"{{{{< var {k} >}}}} in {w}" for k, w in sorted(unknown.items()))
        raise declaration.error(
            "(top level)",
            f"the brief quotes numbers that its declaration does not make: {listed}",
            hint="declare each under `numbers:` (or correct the key in the document).",
        )
