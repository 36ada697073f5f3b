"""The regional brief's "Programme results" section: a results framework's headline results.

When a results framework (dataset kind ``results_framework``) is configured, the workflow gives
the regional brief's findings step the progress table of the framework's latest wave (input
``programme_progress``, results/tables/<dataset>/<wave>/progress.parquet) and its codebook
(``programme_codebook``). ``ProgrammeResults`` adds a few headline results against target, in
the wording of the standalone results brief (analysis.findings.results.ResultsText: the same
lines, the same illustrative-target note), each number a finding whose source is its cell of
the progress table, and one sentence pointing to the results brief. Without a framework the
section is an empty string and the brief omits it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.findings.book import FindingsBook
from analysis.findings.results import (
    ILLUSTRATIVE_NOTE,
    ResultsText,
    brief_title,
    headline_indicators,
)
from analysis.markdown import escape_md
from analysis.results_framework.indicators import illustrative_targets

SECTION = "programme_results"  # included by the regional brief as _sections/programme_results.md
PROGRESS = "programme_progress"
CODEBOOK = "programme_codebook"
PREFIX = "programme_"
LINES = 3  # headline lines in the regional brief; the results brief has every indicator


def framework_of(progress_path: str) -> tuple[str, str]:
    """(dataset, wave) of a progress table at results/tables/<dataset>/<wave>/progress.parquet."""
    parts = Path(progress_path).parts
    return parts[-3], parts[-2]


class ProgrammeResults:
    """Adds the programme results findings and section to a brief's findings book."""

    def __init__(self, book: FindingsBook, paths: Mapping[str, str]) -> None:
        self.book = book
        self.path = paths.get(PROGRESS)
        self.codebook = paths.get(CODEBOOK)

    def title(self, dataset: str, wave: str) -> str:
        """The results brief's title, as build_results_findings gives it."""
        codebook = {}
        if self.codebook and Path(self.codebook).exists():
            codebook = json.loads(Path(self.codebook).read_text(encoding="utf-8"))
        return brief_title(dataset, wave, str(codebook.get("title") or ""))

    def build(self) -> str:
        """Add the section's findings; return its markdown ('' without a framework)."""
        if not self.path:
            self.book.add_section(SECTION, "", [])
            return ""
        progress = pd.read_parquet(self.path)
        text = ResultsText(self.book, progress, str(self.path), prefix=PREFIX, cite=False)
        dataset, wave = framework_of(str(self.path))
        lines = text.headline_lines(headline_indicators(progress, LINES), compact=True)
        intro = "Headline results the programmes report, as published."
        if illustrative_targets(progress):
            intro += f" **{ILLUSTRATIVE_NOTE}**: made up for the example."
        pointer = self.book.add_text(
            f"{PREFIX}results_brief",
            "Every indicator, by sex and by country, with its countries and source, is in the "
            f"one-page results brief *{escape_md(self.title(dataset, wave))}*.",
            [],  # words and the brief's title: no number of the table
        )
        markdown = f"## Programme results\n\n{intro} {pointer}\n\n{lines}"
        return self.book.add_section(SECTION, markdown, [{"table": str(self.path)}])
