"""The tables a brief's findings read, by the names the workflow gives them, loaded once.

Estimates tables pass the one disclosure-control pass (book.protect_for_brief) as they are
loaded, so no finding, table or section of a brief can quote an unprotected estimate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.findings.book import protect_for_brief

# Input names whose tables are design-based estimates: protected before any use.
ESTIMATES_TABLES = ("estimates", "estimates_previous")


@dataclass
class BriefTables:
    """Paths of the tables a brief reads (as Snakemake names them) and the loaded frames."""

    paths: Mapping[str, str]
    threshold: int
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            path = Path(self.paths[name])
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            if name in ESTIMATES_TABLES:
                frame = protect_for_brief(frame, self.threshold)
            self._frames[name] = frame
        return self._frames[name]

    def json(self, name: str) -> Any:
        return json.loads(Path(self.paths[name]).read_text(encoding="utf-8"))

    def path(self, name: str) -> str:
        return str(self.paths[name])

    def has(self, name: str) -> bool:
        return name in self.paths

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self.paths if n.startswith(prefix))


def model_ids(tables: BriefTables) -> list[str]:
    """The plan's models whose terms tables the brief was given."""
    return [n.removeprefix("model_") for n in tables.names("model_")]


def as_mapping(value: Mapping[str, Any] | None) -> dict[str, str]:
    """A declared row or group as text ({'women': 1} -> {'women': '1'})."""
    return {str(k): _text(v) for k, v in (value or {}).items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)
