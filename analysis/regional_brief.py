"""The regional brief's findings: which table cells it quotes, and how each is printed.

This module chooses and formats; it computes nothing new. Every value is one cell of a table the
pipeline wrote (estimates, model terms, training gains, interview tables), after disclosure
control, and each finding records that cell as its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.design import OVERALL
from analysis.findings import (
    SUPPRESSED,
    FindingsBook,
    estimate_row,
    number,
    number_range,
    percent,
    percent_range,
    points,
)

TITLE = "Women in law enforcement and the gendered dynamics of trafficking: ASEAN, {wave}"


@dataclass(frozen=True)
class BriefTables:
    """Paths of the tables a brief reads (as Snakemake names them) and the loaded frames."""

    paths: Mapping[str, str]

    def frame(self, name: str) -> pd.DataFrame:
        path = Path(self.paths[name])
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)

    def has(self, name: str) -> bool:
        return name in self.paths


def estimates_with_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `cell_n`: the unweighted cases behind each cell (level count for proportions)."""
    cell_n = frame["n_level"].astype("Float64").fillna(frame["n"].astype("Float64"))
    return frame.assign(cell_n=cell_n.astype("Int64"))


class RegionalFindings:
    """Builds the findings file of the regional brief for one wave."""

    def __init__(self, tables: BriefTables, *, wave: str, threshold: int, interview_threshold: int):
        self.tables = tables
        self.book = FindingsBook(brief="regional", wave=wave, threshold=threshold)
        self.interview_threshold = interview_threshold
        self.estimates_path = tables.paths["estimates"]
        self.estimates = self._protected("estimates")

    def _protected(self, name: str) -> pd.DataFrame:
        frame = estimates_with_cells(self.tables.frame(name))
        return self.book.protect(frame.rename(columns={"n": "n_group"}).assign(n=frame["n"]))

    # -- single cells ------------------------------------------------------------------------
    def share(
        self,
        key: str,
        estimate_id: str,
        group_var: str = OVERALL,
        group_value: str = OVERALL,
        level: str = "1",
    ) -> str:
        row, source = estimate_row(
            self.estimates,
            self.estimates_path,
            estimate_id=estimate_id,
            group_var=group_var,
            group_value=group_value,
            level=level,
        )
        return self.book.add(
            key, row["estimate"], percent(row["estimate"]), {**source, "column": "estimate"}
        )

    def model_term(self, key: str, model: str, term: str, column: str, digits: int = 2) -> None:
        path = self.tables.paths[f"model_{model}"]
        terms = self.tables.frame(f"model_{model}")
        row = terms.loc[terms["term"] == term].iloc[0]
        source = {"table": path, "row": {"model_id": model, "term": term}}
        self.book.add(key, row[column], number(row[column], digits), {**source, "column": column})
        low, high = (
            column.replace("odds_ratio", "or_ci_low"),
            column.replace("odds_ratio", "or_ci_high"),
        )
        self.book.add(
            f"{key.removesuffix('_or')}_ci",
            None,
            number_range(row[low], row[high], digits),
            {**source, "column": f"{low}, {high}"},
        )

    # -- sections ----------------------------------------------------------------------------
    def women_in_services(self) -> None:
        self.share("women_share", "women_share")
        self.share("women_senior_share", "women_share", "rank_label", "Senior officer")
        self.share("women_border_share", "women_share", "border_posting", "1")
        rows = []
        by_country = self.estimates[
            (self.estimates["estimate_id"] == "women_share")
            & (self.estimates["group_var"] == "country_label")
            & (self.estimates["level"] == "1")
        ].sort_values("group_value", kind="stable")
        for _, row in by_country.iterrows():
            rows.append(
                [
                    str(row["group_value"]),
                    percent(row["estimate"]),
                    percent_range(row["ci_low"], row["ci_high"]),
                    f"{int(row['n_group']):,}",
                ]
            )
        self.book.add_table(
            "women_by_country",
            "Women as a share of officers surveyed, by country (weighted, 95% CI)",
            ["Country", "Women", "95% CI", "Officers surveyed"],
            rows,
            note=f"Estimates based on fewer than {self.book.threshold} officers are suppressed.",
            source=self.estimates_path,
        )

    def training(self) -> None:
        self.share("training_women", "training_coverage", "women", "1")
        self.share("training_men", "training_coverage", "women", "0")
        self.share("gs_procedure_trained", "gs_procedure_followed", "training_gender", "1")
        self.share("gs_procedure_untrained", "gs_procedure_followed", "training_gender", "0")
        if not self.tables.has("prepost"):
            return
        path = self.tables.paths["prepost"]
        gains = self.tables.frame("prepost")
        overall = gains[(gains["statistic"] == "gain") & (gains["group"] == "all")].iloc[0]
        source = {"table": path, "row": {"statistic": "gain", "group": "all"}}
        self.book.add(
            "training_gain",
            overall["estimate"],
            number(overall["estimate"], 1),
            {**source, "column": "estimate"},
        )
        self.book.add(
            "training_gain_ci",
            None,
            number_range(overall["ci_low"], overall["ci_high"], 1),
            {**source, "column": "ci_low, ci_high"},
        )
        self.book.add(
            "training_paired_tests",
            overall["n"],
            f"{int(overall['n']):,}",
            {**source, "column": "n"},
        )

    def harassment_and_retention(self) -> None:
        self.share("harassment_women", "harassment_prevalence", "women", "1")
        self.share("harassment_men", "harassment_prevalence", "women", "0")
        self.share("report_safe_women", "report_safe", "women", "1")
        self.share("intend_stay_women", "intend_stay", "women", "1")
        self.share("intend_stay_men", "intend_stay", "women", "0")
        self.model_term("model_harassment_or", "stay_logit", "harassment", "odds_ratio")
        path = self.tables.paths["model_stay_logit"]
        terms = self.tables.frame("model_stay_logit")
        labels = {
            "harassment": "Experienced harassment",
            "training_gender": "Had gender training",
            "women": "Woman (vs man)",
        }
        rows = []
        for _, row in terms.iterrows():
            if row["term"] == "Intercept":
                continue
            label = labels.get(
                row["term"], str(row["term"]).replace("C(age_band)[T.", "Age ").rstrip("]")
            )
            rows.append(
                [
                    label,
                    number(row["odds_ratio"], 2),
                    number_range(row["or_ci_low"], row["or_ci_high"], 2),
                    "<0.001" if row["p"] < 0.001 else number(row["p"], 3),
                ]
            )
        self.book.add_table(
            "model_stay",
            "Odds of intending to stay five more years (design-based logistic regression)",
            ["Factor", "Odds ratio", "95% CI", "p"],
            rows,
            note="Reference groups: men, no harassment, no training, aged 18-29. "
            "Odds ratios below 1 mean lower odds of staying.",
            source=path,
        )

    def change_since(self, previous_wave: str) -> None:
        """The latest wave's change since the previous one, for the key figures."""
        before = self._protected("estimates_previous")
        previous_path = self.tables.paths["estimates_previous"]
        for key, estimate_id, group_var, group_value in (
            ("women_share", "women_share", OVERALL, OVERALL),
            ("training_women", "training_coverage", "women", "1"),
        ):
            now, now_src = estimate_row(
                self.estimates,
                self.estimates_path,
                estimate_id=estimate_id,
                group_var=group_var,
                group_value=group_value,
                level="1",
            )
            then, then_src = estimate_row(
                before,
                previous_path,
                estimate_id=estimate_id,
                group_var=group_var,
                group_value=group_value,
                level="1",
            )
            self.book.add(
                f"{key}_previous",
                then["estimate"],
                percent(then["estimate"]),
                {**then_src, "column": "estimate"},
            )
            diff = (
                now["estimate"] - then["estimate"]
                if pd.notna(now["estimate"]) and pd.notna(then["estimate"])
                else None
            )
            self.book.add_text(
                f"{key}_change",
                points(diff),
                [{**now_src, "column": "estimate"}, {**then_src, "column": "estimate"}],
            )
        self.book.add_text("previous_wave", previous_wave, [])

    def figures(self, figure_paths: Mapping[str, str]) -> None:
        for name, caption in (
            ("women_by_country", "Women as a share of officers surveyed, by country"),
            ("training_gain", "Knowledge-test gain after the pilot training, by module"),
            ("code_cooccurrence", "How often themes were raised together in interviews"),
        ):
            paths = {kind: figure_paths[f"figure_{name}_{kind}"] for kind in ("svg", "png", "alt")}
            alt = Path(paths["alt"]).read_text(encoding="utf-8").strip()
            self.book.add_figure(name, paths, alt=alt, caption=caption)

    def build(self, *, previous_wave: str | None, figure_paths: Mapping[str, str]) -> FindingsBook:
        self.women_in_services()
        self.training()
        self.harassment_and_retention()
        if previous_wave is not None and self.tables.has("estimates_previous"):
            self.change_since(previous_wave)
        else:
            self.book.add_text("women_share_change", SUPPRESSED, [])
        self.figures(figure_paths)
        return self.book
