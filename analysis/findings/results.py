"""The one-page results brief: a results framework's progress against its targets.

From the progress table (analysis.results_framework.indicators.progress_table) of one wave it draws
the
progress chart (one bar per indicator against its target, house style) and writes a findings
book (analysis.findings.book): the illustrative-target warning, one headline line per indicator, the
figures by sex and by country, and the sources. Every number printed is a finding whose
source names the progress table's row and column and the document the figure comes from;
sources are numbered [1], [2], ... beside each figure. The words and layout are the Quarto
project reports/results/ (results.qmd), which includes the sections made here.
"""

from __future__ import annotations

import calendar
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.findings.book import FindingsBook, table_row
from analysis.markdown import escape_md
from analysis.results_framework.indicators import (
    ILLUSTRATIVE,
    KEY,
    NOT_REPORTED,
    TOTAL,
    achieved_text,
    coverage_sentence,
    framework_countries,
    headline,
    illustrative_targets,
    indicator_ids,
    women_row,
)

KIND = "results"
FIGURE = "progress"
BAR_CAP = 1.25  # bars beyond 125% of the target are drawn to 125% and labelled with the value
HEADLINES = 4  # headline lines of the results brief; the chart shows every indicator
ILLUSTRATIVE_NOTE = "Targets are ILLUSTRATIVE, not published"
ILLUSTRATIVE_WARNING = (
    f"**{ILLUSTRATIVE_NOTE}**: made up for the example, and marked “(illustrative)” wherever "
    "they appear. The achieved figures are the published ones."
)


def period_label(row: Mapping[str, Any]) -> str:
    """'to 2019' for a cumulative figure, 'in 2014–2015' for a figure of one period."""
    period = _period_words(str(row["period"]))
    return f"to {period}" if row["period_type"] == "cumulative" else f"in {period}"


def _period_words(period: str) -> str:
    """'2019-09' -> 'September 2019'; '2014/2015' -> '2014–2015'; '2019' as is."""
    if "/" in period:
        return period.replace("/", "–")
    if "-" in period:
        year, month = period.split("-")
        return f"{calendar.month_name[int(month)]} {year}"
    return period


def target_label(row: Mapping[str, Any]) -> str:
    """'25,000 (illustrative)', '25,000' (published) or 'none'."""
    target = row["target"]
    if target is None or pd.isna(target):
        return "none"
    status = row.get("target_status")
    return f"{int(target):,} (illustrative)" if status == ILLUSTRATIVE else f"{int(target):,}"


def progress_label(row: Mapping[str, Any]) -> str:
    """'99% of target', 'target 0: achieved 5', 'no target', 'not reported'."""
    if pd.isna(row["achieved"]):
        return NOT_REPORTED
    if pd.isna(row["target"]):
        return "no target"
    if int(row["target"]) == 0:
        return f"target 0: achieved {achieved_text(row['achieved'], row['achieved_qualifier'])}"
    at_least = "at least " if pd.notna(row.get("achieved_qualifier")) else ""
    return f"{at_least}{round(100 * float(row['progress'])):d}% of target"


# ---- the figure -----------------------------------------------------------------------------


def progress_figure(progress: pd.DataFrame, base: Path) -> dict[str, Path]:
    """One bar per indicator: achieved as a share of its target (line at 100%), labelled with
    the figures; an indicator without a target or not reported says so instead of a bar."""
    # matplotlib (with draw's Agg backend) loads when a figure is drawn: briefs only read text
    from analysis.figures.draw import OKABE_ITO, house_style, plt, save_figure

    heads = [headline(progress, i) for i in indicator_ids(progress)]
    illustrative = illustrative_targets(progress)
    with house_style():
        fig, ax = plt.subplots(figsize=(6.3, 0.125 * len(heads) + 0.46))
        ys = list(range(len(heads)))[::-1]
        for y, row in zip(ys, heads, strict=True):
            label = _bar_label(row)
            if pd.isna(row["progress"]):
                ax.text(1, y, label, va="center", ha="left", fontsize=6.5, style="italic",
                        color="#4D4D4D")  # fmt: skip
                continue
            share = min(float(row["progress"]), BAR_CAP)
            ax.barh(y, 100 * share, height=0.7, color=OKABE_ITO[0], zorder=2)
            ax.text(100 * BAR_CAP + 4, y, label, va="center", ha="left", fontsize=6.5,
                    color="#1A1A1A")  # fmt: skip
        ax.axvline(100, color=OKABE_ITO[3], linestyle="--", linewidth=1, zorder=3)
        ax.set_ylim(-0.6, len(heads) - 0.4)
        ax.set_yticks(ys)
        ax.set_yticklabels([_short(str(r["indicator"])) for r in heads], fontsize=6.5)
        ax.set_xlim(0, 100 * BAR_CAP + 60)
        ax.set_xticks([0, 25, 50, 75, 100, 125])
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}%")
        ax.set_xlabel(
            "Achieved as % of target" + (" (targets ILLUSTRATIVE)" if illustrative else ""),
            fontsize=7.5,
        )
        ax.tick_params(axis="y", length=0)
        paths = save_figure(fig, base, progress_alt(heads, illustrative))
        plt.close(fig)
    return paths


def _bar_label(row: pd.Series) -> str:
    achieved = achieved_text(row["achieved"], row["achieved_qualifier"])
    if pd.isna(row["achieved"]):
        return NOT_REPORTED
    if pd.isna(row["target"]):
        return f"{achieved} (no target)"
    if int(row["target"]) == 0:
        return f"target 0: achieved {achieved}"
    return f"{achieved} of {int(row['target']):,}"


def _short(text: str, width: int = 52) -> str:
    """An indicator's name on one line of the chart's axis (the alt text has it in full)."""
    return textwrap.shorten(text, width, placeholder="…")


def progress_alt(heads: list[pd.Series], illustrative: bool) -> str:
    """The chart's alt text: every bar's figures in words."""
    parts = [f"{row['indicator']}: {_bar_label(row)}" for row in heads]
    note = " The targets are illustrative, not published." if illustrative else ""
    return (
        "Horizontal bar chart of each indicator's achieved figure as a share of its target, "
        "with a dashed line at 100%." + note + " " + "; ".join(parts) + "."
    )


# ---- the wording the results brief and the regional brief's section share ----------------


def headline_indicators(progress: pd.DataFrame, limit: int = HEADLINES) -> list[str]:
    """The indicators a short list of headline results shows, in framework order: the first
    indicator of each source document (so every strand of the programme is there), then the
    next indicators about people, then any other, up to `limit`."""
    ids = indicator_ids(progress)
    heads = {i: headline(progress, i) for i in ids}
    first_of_source = list({str(heads[i]["source"]): i for i in reversed(ids)}.values())[::-1]
    people = [i for i in ids if bool(heads[i]["counts_people"])]
    chosen = list(dict.fromkeys([*first_of_source, *people, *ids]))[:limit]
    return [i for i in ids if i in chosen]


class ResultsText:
    """Writes figures of a progress table into a findings book: one finding per cell quoted,
    its source the table's row (analysis.findings.book.table_row), column and document. The one
    place for the wording of a headline line, shared by the results brief and the regional
    brief's programme results section (`prefix` keeps their keys apart, `cite` numbers the
    sources [1], [2] ... as the results brief lists them)."""

    def __init__(
        self,
        book: FindingsBook,
        progress: pd.DataFrame,
        table: str,
        *,
        prefix: str = "",
        cite: bool = True,
    ) -> None:
        self.book, self.progress, self.table = book, progress, table
        self.prefix, self.citing = prefix, cite
        self.sources = list(dict.fromkeys(progress["source"].astype(str)))

    def cite(self, row: Mapping[str, Any], *, markdown: bool = True) -> str:
        """'[2]': the number of the row's source in the list of sources (escaped in text)."""
        number = self.sources.index(str(row["source"])) + 1
        return f"\\[{number}\\]" if markdown else f"[{number}]"

    def number(self, row: pd.Series, column: str, text: str, suffix: str = "") -> str:
        """A finding for one cell of the progress table (`suffix` keeps keys unique)."""
        key = "__".join(
            [str(row["indicator_id"]), _slug(row["country"]), str(row["sex"]), _slug(row["period"])]
        )
        _, source = table_row(self.progress, self.table, {k: str(row[k]) for k in KEY})
        source.update(column=column, document=str(row["source"]))
        return self.book.add(f"{self.prefix}{key}__{column}{suffix}", row[column], text, source)

    def headline_line(self, indicator: str, *, compact: bool = False) -> str:
        """'- **24,659** women reached … (…, to 2019): 99% of target, target 25,000
        (illustrative). [1]': the figure, where and when, progress, women, coverage, source.
        `compact` leaves out where (countries) and the coverage note, for a line in another
        brief that points to this one."""
        row = headline(self.progress, indicator)
        achieved = self.number(
            row, "achieved", achieved_text(row["achieved"], row["achieved_qualifier"])
        )
        where = str(row["coverage"]) if pd.notna(row["coverage"]) else str(row["country"])
        where = "" if where == TOTAL or compact else f"{where}, "
        line = (
            f"- **{achieved}** {escape_md(_lower_first(str(row['indicator'])))} "
            f"({escape_md(where)}{period_label(row)})"
        )
        if pd.notna(row["target"]):
            target = self.number(row, "target", target_label(row))
            progress = self.number(row, "progress", progress_label(row))
            line += f": {progress}, target {target}"
        women = women_row(self.progress, indicator)
        if women is not None:
            line += f"; women {self.women_text(women)}"
        notes = "" if compact else coverage_sentence(self.progress, indicator, say_complete=False)
        cite = self.cite(row) if self.citing else ""
        return f"{line}. {escape_md(notes)} {cite}".replace("  ", " ").rstrip()

    def headline_lines(self, indicators: list[str], *, compact: bool = False) -> str:
        return "\n".join(self.headline_line(i, compact=compact) for i in indicators) + "\n"

    def women_text(self, women: pd.Series, suffix: str = "") -> str:
        """'63 (34% of 185, as published)' for a count derived from a percentage."""
        count = self.number(women, "achieved", achieved_text(women["achieved"]), suffix)
        if pd.isna(women["published_percent"]):
            return count
        pct = self.number(women, "published_percent", f"{women['published_percent']:g}%", suffix)
        return f"{count} ({pct} of {int(women['base']):,}, as published)"


# ---- the findings ---------------------------------------------------------------------------


class ResultsBrief:
    """Builds the results brief's findings for one wave of one results framework."""

    def __init__(
        self,
        *,
        dataset: str,
        wave: str,
        progress: pd.DataFrame,
        progress_table: str,
        figure: Mapping[str, str],
        alt: str,
        title: str = "",
    ) -> None:
        self.dataset, self.wave, self.progress = dataset, wave, progress
        self.table, self.figure, self.alt = progress_table, figure, alt
        self.title = brief_title(dataset, wave, title)
        self.book = FindingsBook(brief=dataset, wave=wave, threshold=1)
        self.text = ResultsText(self.book, progress, progress_table)
        self.sources = self.text.sources
        self.cite, self.number = self.text.cite, self.text.number

    def build(self) -> FindingsBook:
        sources = [{"table": self.table}]
        self.book.add_section("warning", self._warning(), sources)
        self.book.add_section("headlines", self._headlines(), sources)
        self.book.add_figure(FIGURE, self.figure, self.alt, self._figure_caption())
        self.book.add_section("by_sex", self._by_sex(), sources)
        self.book.add_section("by_country", self._by_country(), sources)
        self.book.add_section("sources", self._sources(), sources)
        return self.book

    def _warning(self) -> str:
        if illustrative_targets(self.progress):
            return ILLUSTRATIVE_WARNING + "\n"
        return "The targets are those published in the sources named below.\n"

    def _figure_caption(self) -> str:
        note = f" {ILLUSTRATIVE_NOTE}." if illustrative_targets(self.progress) else ""
        return f"Every indicator against its target ({self.wave}).{note}"

    def _headlines(self) -> str:
        return self.text.headline_lines(headline_indicators(self.progress))

    def _women_text(self, women: pd.Series, suffix: str = "") -> str:
        return self.text.women_text(women, suffix)

    def _by_sex(self) -> str:
        """Each figure about people by sex where the source gives it, in one paragraph; the
        indicators that count women only, and those the source does not give by sex, named."""
        people = [
            i for i in indicator_ids(self.progress)
            if bool(self.progress.loc[self.progress["indicator_id"] == i, "counts_people"].any())
        ]  # fmt: skip
        by_sex, women_only, not_by_sex = [], [], []
        derived = None
        for indicator in people:
            head = headline(self.progress, indicator)
            women = women_row(self.progress, indicator)
            if head["sex"] == "women":
                women_only.append(str(head["indicator"]))
            elif women is None:
                not_by_sex.append(str(head["indicator"]))
            else:
                everyone = self.number(head, "achieved", achieved_text(head["achieved"]), "__sex")
                count = self._women_text(women, "__sex")
                name = escape_md(_lower_first(str(head["indicator"])))
                by_sex.append(f"{name} {everyone}, of whom women {count} {self.cite(head)}")
                if derived is None and pd.notna(women["published_percent"]):
                    derived = women
        parts = []
        if by_sex:
            note = f" {self._rounding_note(derived)}" if derived is not None else ""
            parts.append(f"**By sex**, where the source gives it: {'; '.join(by_sex)}.{note}")
        if women_only:
            many = len(women_only) > 1
            count = f"{len(women_only)} indicators count" if many else "One indicator counts"
            parts.append(f"**Women only**: {count} only women, by definition.")
        if not_by_sex:
            parts.append(f"**Not given by sex in the source**: {escape_md(_names(not_by_sex))}.")
        return " ".join(parts) + "\n" if parts else "No indicator counts people.\n"

    def _rounding_note(self, women: pd.Series) -> str:
        """How a count of women is derived from a published rounded percentage, and its range."""
        low = self.number(women, "achieved_min", f"{int(women['achieved_min']):,}", "__note")
        high = self.number(women, "achieved_max", f"{int(women['achieved_max']):,}", "__note")
        pct = f"{women['published_percent']:g}%"
        return (
            "A count of women from a rounded percentage is round(percentage × base); "
            f"{pct} of {int(women['base']):,} allows {low} to {high}."
        )

    def _by_country(self) -> str:
        """One line per indicator given by country: each country's figure ('not reported' where
        the source gives none, never 0) and the total."""
        countries = framework_countries(self.progress)
        lines = []
        for indicator in indicator_ids(self.progress):
            head = headline(self.progress, indicator)
            same = self.progress[
                (self.progress["indicator_id"] == indicator)
                & (self.progress["sex"] == head["sex"])
                & (self.progress["period"] == head["period"])
            ]
            if (same["country"] == TOTAL).all():
                continue
            cells = []
            for country in [*countries, TOTAL]:
                match = same[same["country"] == country]
                figure = (
                    self.number(
                        match.iloc[0], "achieved", achieved_text(match.iloc[0]["achieved"]),
                        "__country",
                    )
                    if not match.empty
                    else NOT_REPORTED
                )  # fmt: skip
                cells.append(f"{'total' if country == TOTAL else escape_md(country)} {figure}")
            name = escape_md(str(head["indicator"]))
            lines.append(f"- {name}: {', '.join(cells)} {self.cite(head)}")
        if not lines:
            return "No indicator is reported by country.\n"
        return "\n".join(lines) + "\n"

    def _sources(self) -> str:
        return " ".join(f"\\[{i}\\] {escape_md(s)}." for i, s in enumerate(self.sources, 1)) + "\n"

    def findings(self, source_date_epoch: int, provenance: Mapping[str, Any]) -> dict:
        data = self.build().to_dict(self.title, source_date_epoch, provenance)
        data["suppressed_note"] = (
            "The figures are published programme totals, not survey microdata: no cell needed "
            "to be withheld."
        )
        return {"kind": KIND, **data}


def brief_title(dataset: str, wave: str, title: str = "") -> str:
    """'Programme results against targets: 2019': the codebook's title (else the dataset's
    name) and the wave."""
    return f"{title or dataset.replace('_', ' ').capitalize()}: {wave}"


def _slug(value: object) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(value)).strip("_").lower()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + "; and " + items[-1]
