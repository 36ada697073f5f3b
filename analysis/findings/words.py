"""Plain words a brief builds from table cells: lists, a model's covariates, filled templates."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


def join_words(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def formula_terms(formula: str) -> list[str]:
    """Variables on the right of a model formula: 'y ~ a + C(b)' -> ['a', 'b']."""
    if "~" not in formula:
        raise ValueError(f"not a model formula (no '~'): {formula!r}")
    right = formula.split("~", 1)[1]
    terms = []
    for part in right.split("+"):
        part = part.strip()
        inner = re.fullmatch(r"C\(\s*([A-Za-z_][\w]*)\s*(?:,.*)?\)", part)
        name = inner.group(1) if inner else part
        if name and name not in ("1", "0") and name not in terms:
            terms.append(name)
    return terms


def covariates_sentence(formula: str, exposure: str, words: Mapping[str, str]) -> str:
    """The covariates a model allows for, other than the exposure, in words (`words` names a
    variable in a sentence; others read as their name with spaces)."""
    said = [words.get(t, t.replace("_", " ")) for t in formula_terms(formula)]
    exposure_word = words.get(exposure, exposure)
    return join_words([w for w in said if w != exposure_word])


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each `{name}` with its value: plain substitution, nothing evaluated. A name not
    in `values` raises KeyError naming it; `{a.b}` and other shapes are left as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(name)
        return str(values[name])

    return PLACEHOLDER.sub(replace, template)
