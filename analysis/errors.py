"""Errors raised for bad input: each renders as one message naming where and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from typing import Any

MAX_ROWS_SHOWN = 10


def format_rows(rows: Iterable[int], limit: int = MAX_ROWS_SHOWN) -> str:
    """Render 1-based row numbers as ``row 4`` / ``rows 4, 17`` / ``rows 1, ..., 10 and 5 more``."""
    numbers = list(rows)
    if not numbers:
        return ""
    shown = ", ".join(str(n) for n in numbers[:limit])
    word = "row" if len(numbers) == 1 else "rows"
    rest = len(numbers) - limit
    return f"{word} {shown}" + (f" and {rest} more" if rest > 0 else "")


class WpsInputError(ValueError):
    """Bad input, told as one message.

    ``dataset: file: column 'c', rows 4, 17: problem. What to do: hint`` (empty parts left out).
    """

    def __init__(
        self,
        problem: str,
        *,
        dataset: str = "",
        file: str | PathLike[str] = "",
        column: str | None = None,
        rows: Iterable[int] | None = None,
        hint: str = "",
    ) -> None:
        self.problem = problem
        self.dataset = dataset
        self.file = str(file) if file else ""
        self.column = column
        self.rows = [int(r) for r in rows] if rows is not None else None
        self.hint = hint
        super().__init__(problem)

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only arguments: rebuild through a helper so the error survives pickling
        state = {
            "dataset": self.dataset,
            "file": self.file,
            "column": self.column,
            "rows": self.rows,
            "hint": self.hint,
        }
        return (_rebuild, (type(self), self.problem, state))

    def __str__(self) -> str:
        where = [part for part in (self.dataset, self.file) if part]
        cell = []
        if self.column is not None:
            cell.append(f"column {self.column!r}")
        if self.rows:
            cell.append(format_rows(self.rows))
        if cell:
            where.append(", ".join(cell))
        problem = self.problem.strip()
        if problem and problem[-1] not in ".!?":
            problem += "."
        message = ": ".join([*where, problem]) if where else problem
        if self.hint:
            message += f" What to do: {self.hint.strip()}"
        return message


def _rebuild(cls: type[WpsInputError], problem: str, state: dict[str, Any]) -> WpsInputError:
    return cls(problem, **state)


class IngestError(WpsInputError):
    """A raw file cannot be read: wrong type, empty, truncated, unreadable layout."""


class StructuralError(WpsInputError):
    """A table does not have the shape its codebook promises (columns missing, duplicated...)."""


class CodebookError(WpsInputError):
    """A codebook is malformed or contradicts itself."""


class ConfigError(WpsInputError):
    """The workflow configuration or analysis plan is invalid."""


class IngestWarning(UserWarning):
    """A raw file was read, but with a guess the user should check (e.g. a legacy encoding)."""
