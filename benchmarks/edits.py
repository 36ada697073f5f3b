"""The changes a researcher makes between runs, applied to a copy of the project and reverted.

Each edit is the smallest realistic change of its kind: one estimate or one model appended to the
officer survey's plan (as text, so the plan's comments and layout stay as the user wrote them),
or one sentence added to the regional brief's words. :func:`revert` puts every edited file back
as it is in the project.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PLAN = Path("config/plan.yaml")
DATASET = "officer_survey"
BRIEF_WORDS = Path("reports/regional/text/recommendations.md")
#: The brief whose words :data:`BRIEF_WORDS` are (its rendered files are named after it).
WORDS_BRIEF = "regional"
#: The estimate appended to the plan for the "one estimate added" rerun.
EXTRA_ESTIMATE: dict[str, Any] = {
    "id": "bench_border_posting",
    "title": "Officers posted at a border crossing (added by the benchmark)",
    "variable": "border_posting",
    "statistic": "proportion",
    "by": ["women"],
}
#: The model appended to the plan for the "one model added" rerun.
EXTRA_MODEL: dict[str, Any] = {
    "id": "bench_gbv_cases_poisson",
    "title": "Gender-based-violence cases handled (Poisson; added by the benchmark)",
    "formula": "cases_gbv_12m ~ women + border_posting",
    "family": "poisson",
}
SENTENCE = "Review these recommendations with each service before the brief is published."


class EditFailed(RuntimeError):
    """An edit did not produce the change it promises (the file's layout was not understood)."""


@dataclass(frozen=True)
class Edit:
    """One kind of change: what it touches and how to make it in a copy of the project."""

    id: str
    what: str
    path: Path
    apply: Callable[[Path], None]
    #: The brief whose words the edit changes (its renders are needed), or None.
    words_of: str | None = None


def append_to_plan_list(plan_path: Path, key: str, entry: dict[str, Any]) -> None:
    """Append ``entry`` to ``datasets.officer_survey.<key>`` by inserting YAML text.

    The rest of the file is kept byte for byte. The result is parsed and must equal the old plan
    with the entry appended; otherwise :class:`EditFailed` (and the file is left as it was).
    """
    text = plan_path.read_text(encoding="utf-8")
    before = yaml.safe_load(text)
    lines = text.splitlines(keepends=True)
    at, indent = _list_end(lines, key)
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000)
    new = "".join(lines[:at]) + _indent(block, indent) + "".join(lines[at:])
    expected = yaml.safe_load(text)
    expected["datasets"][DATASET][key].append(entry)
    if yaml.safe_load(new) != expected or before == expected:
        raise EditFailed(f"could not append to datasets.{DATASET}.{key} in {plan_path}")
    plan_path.write_text(new, encoding="utf-8")


def _list_end(lines: list[str], key: str) -> tuple[int, int]:
    """Index after the last line of the list under ``<key>:``, and its items' indent."""
    head = next(
        (i for i, line in enumerate(lines) if re.match(rf"^\s+{key}:\s*(#.*)?$", line)), None
    )
    if head is None:
        raise EditFailed(f"no `{key}:` list in the plan")
    key_indent = len(lines[head]) - len(lines[head].lstrip())
    end, item_indent = head + 1, None
    for i in range(head + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        if indent <= key_indent and not stripped.startswith("- "):
            break
        if item_indent is None and stripped.startswith("- "):
            item_indent = indent
        end = i + 1
    if item_indent is None:
        raise EditFailed(f"the `{key}:` list in the plan has no items")
    return end, item_indent


def _indent(block: str, spaces: int) -> str:
    return "".join(" " * spaces + line for line in block.splitlines(keepends=True))


def add_estimate(copy: Path) -> None:
    """Append :data:`EXTRA_ESTIMATE` to the officer survey's estimates in the copy's plan."""
    append_to_plan_list(copy / PLAN, "estimates", dict(EXTRA_ESTIMATE))


def add_model(copy: Path) -> None:
    """Append :data:`EXTRA_MODEL` to the officer survey's models in the copy's plan."""
    append_to_plan_list(copy / PLAN, "models", dict(EXTRA_MODEL))


def add_sentence(copy: Path) -> None:
    """Add :data:`SENTENCE` as a paragraph at the end of the regional brief's recommendations."""
    path = copy / BRIEF_WORDS
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + f"\n\n{SENTENCE}\n", encoding="utf-8")


EDITS: tuple[Edit, ...] = (
    Edit("estimate", "One estimate added to the plan", PLAN, add_estimate),
    Edit("model", "One model added to the plan", PLAN, add_model),
    Edit(
        "sentence",
        "One sentence added to the regional brief's words",
        BRIEF_WORDS,
        add_sentence,
        words_of=WORDS_BRIEF,
    ),
)


def revert(root: Path, copy: Path) -> None:
    """Every file an edit may change, back as it is in the project (times kept)."""
    for path in {edit.path for edit in EDITS}:
        shutil.copy2(root / path, copy / path)
