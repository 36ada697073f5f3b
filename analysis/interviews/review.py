"""A person's review of quotes: the only way a quote reaches a brief.

The interviews stage writes every candidate quote of a wave (consented, redacted, see
:func:`analysis.interviews.quotes.candidate_quotes`) to a review sheet,
``results/interviews/<dataset>/<wave>/quote_review.csv``: restricted tier (owner-only, never in
the Snakemake report). A reviewer reads each quote as it would be printed and records a decision
in ``data/raw/<dataset>/_quote_reviews.csv`` (the ``_`` keeps it beside the waves without being
one), one row per decision::

    wave,quote_id,text_sha256,decision,reviewed_by,reviewed_on,note
    2024,Q-0030,<64 hex digits copied from the sheet>,approve,A. Reviewer,2025-06-02,

A quote enters the quote bank (``quotes.csv``, the only quotes a brief may print) when a row
approves exactly its current redacted text: the SHA-256 of that text. When the text or its
redaction changes, the decision no longer applies: the quote is out, the sheet says "reviewed
for another text", and the run summary names it (:func:`review_warnings`). A quote the redactor
could not fully check (a non-Latin script) is a candidate like any other: a person's approval of
exactly its redacted text is what lets it through. ``wps quotes review`` says where the sheets
are and what to fill in.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from analysis.errors import WpsInputError
from analysis.ingest.discover import wave_files
from analysis.interviews.quotes import BANK_COLUMNS, CHECK, TEXT_SHA256

REVIEWS_FILE = "_quote_reviews.csv"  # in data/raw/<dataset>/
SHEET_FILE = "quote_review.csv"  # in results/interviews/<dataset>/<wave>/
REVIEW_COLUMNS = ("wave", "quote_id", TEXT_SHA256, "decision", "reviewed_by", "reviewed_on")
OPTIONAL_COLUMNS = ("note",)
APPROVE, REJECT = "approve", "reject"

APPROVED = "approved"
REJECTED = "rejected"
NOT_REVIEWED = "not reviewed"
OTHER_TEXT = "reviewed for another text"
GONE = "approved, no longer a candidate"
SHEET_COLUMNS = [
    "wave",
    "quote_id",
    TEXT_SHA256,
    "status",
    "reviewed_by",
    "reviewed_on",
    CHECK,
    "speaker",
    "codes",
    "quote",
]
REVIEWED_BANK_COLUMNS = [*BANK_COLUMNS, TEXT_SHA256, "reviewed_by", "reviewed_on"]
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FILL = (
    "copy wave, quote_id and text_sha256 of the quote from its review sheet, and fill decision "
    "(approve or reject), reviewed_by (who) and reviewed_on (YYYY-MM-DD)"
)
HOW = FILL + "; `wps quotes review` says where the sheets are"


# -- the reviewer's file -----------------------------------------------------------------------
def empty_reviews() -> pd.DataFrame:
    """No decision recorded (no reviews file)."""
    return pd.DataFrame(columns=[*REVIEW_COLUMNS, "row"])


def read_reviews(
    path: Path | str,
    *,
    dataset: str,
    wave: str,
    waves: Iterable[str],
    known_ids: Iterable[str],
    today: date | None = None,
) -> pd.DataFrame:
    """The decisions of a reviews file that concern ``wave``, checked.

    Every row must name a wave of the dataset (``waves``), a quote ID, a SHA-256, a decision
    (approve or reject), a reviewer and a date no later than ``today`` (default: today, UTC);
    a row of ``wave`` must name a quote ID the wave has (``known_ids``); one decision per quote
    and text. Raises WpsInputError naming the file, column, rows and what to do.

    Returns the rows of ``wave`` (the review columns, decision and hash in lower case, and
    ``row``: the line of the file).
    """
    path = Path(path)
    today = today or datetime.now(UTC).date()
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False
        )
    except pd.errors.EmptyDataError:
        return empty_reviews()
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise WpsInputError(
            f"the quote reviews file cannot be read as UTF-8 CSV ({err})",
            dataset=dataset,
            file=path,
            hint="save it as CSV (UTF-8) with a header line: " + ",".join(REVIEW_COLUMNS),
        ) from None
    missing = [c for c in REVIEW_COLUMNS if c not in table.columns]
    if missing:
        raise WpsInputError(
            f"the quote reviews file has no column {', '.join(map(repr, missing))}",
            dataset=dataset,
            file=path,
            column=missing[0],
            hint="its header line must be: " + ",".join((*REVIEW_COLUMNS, *OPTIONAL_COLUMNS)),
        )
    table = table.fillna("").apply(lambda column: column.str.strip())
    table["row"] = table.index + 2  # line 1 is the header
    table = table.loc[(table[list(REVIEW_COLUMNS)] != "").any(axis=1)]  # blank lines
    table["decision"] = table["decision"].str.lower()
    table[TEXT_SHA256] = table[TEXT_SHA256].str.lower()
    _check_rows(table, path, dataset, set(waves), today)
    mine = table.loc[table["wave"] == str(wave)]
    known = {str(q) for q in known_ids}
    _refuse(
        mine.loc[~mine["quote_id"].isin(known)],
        "quote_id",
        f"no quote of wave {wave} has this ID",
        f"correct the ID (copy it from the wave's review sheet, {SHEET_FILE}) or the wave",
        path,
        dataset,
    )
    return mine.loc[:, [*REVIEW_COLUMNS, "row"]].reset_index(drop=True)


def reviews_of_wave(
    path: Path | str | None, *, dataset: str, wave: str, table: pd.DataFrame
) -> pd.DataFrame:
    """The checked decisions on one wave's quotes (``table``: its cleaned interviews), from the
    reviews file at ``path`` (None: no file, no decision). The waves are the raw files beside it."""
    if path is None:
        return empty_reviews()
    ids = table["quote_id"].dropna().astype(str) if "quote_id" in table.columns else []
    return read_reviews(
        path, dataset=dataset, wave=wave, waves=wave_files(Path(path).parent), known_ids=ids
    )


def _check_rows(
    table: pd.DataFrame, path: Path, dataset: str, waves: set[str], today: date
) -> None:
    """Raise WpsInputError for the first column with a bad value."""
    for column in REVIEW_COLUMNS:
        _refuse(
            table.loc[table[column] == ""],
            column,
            f"{column} is empty",
            HOW,
            path,
            dataset,
            show=False,
        )
    _refuse(
        table.loc[~table["wave"].isin(waves)],
        "wave",
        f"no such wave in data/raw/{dataset} (waves: {', '.join(sorted(waves)) or 'none'})",
        "write the wave as its raw file is named (2024 for 2024.xlsx)",
        path,
        dataset,
    )
    _refuse(
        table.loc[~table[TEXT_SHA256].str.fullmatch(_SHA256.pattern)],
        TEXT_SHA256,
        "not a SHA-256 (64 hexadecimal digits)",
        "copy text_sha256 from the review sheet, whole",
        path,
        dataset,
    )
    _refuse(
        table.loc[~table["decision"].isin([APPROVE, REJECT])],
        "decision",
        f"decision must be '{APPROVE}' or '{REJECT}'",
        f"write {APPROVE} or {REJECT}",
        path,
        dataset,
    )
    dates = pd.to_datetime(table["reviewed_on"], format="%Y-%m-%d", errors="coerce")
    iso = table["reviewed_on"].str.fullmatch(_ISO_DATE.pattern)
    _refuse(
        table.loc[dates.isna() | ~iso],
        "reviewed_on",
        "not a date written YYYY-MM-DD",
        "write the day of the review as YYYY-MM-DD, e.g. 2025-06-02",
        path,
        dataset,
    )
    _refuse(
        table.loc[dates.dt.date > today],
        "reviewed_on",
        f"the date is in the future (today is {today.isoformat()})",
        "write the day the quote was really reviewed",
        path,
        dataset,
    )
    key = ["wave", "quote_id", TEXT_SHA256]
    _refuse(
        table.loc[table.duplicated(key, keep=False)],
        "quote_id",
        "more than one decision for one quote and text",
        "keep one row per wave, quote_id and text_sha256 (delete the older)",
        path,
        dataset,
    )


def _refuse(
    bad: pd.DataFrame,
    column: str,
    problem: str,
    hint: str,
    path: Path,
    dataset: str,
    *,
    show: bool = True,
) -> None:
    """Raise WpsInputError naming the rows of ``bad`` (and their values, when ``show``)."""
    if bad.empty:
        return
    values = ", ".join(sorted({repr(v) for v in bad[column]})[:5])
    raise WpsInputError(
        f"{problem}: {values}" if show else problem,
        dataset=dataset,
        file=path,
        column=column,
        rows=bad["row"].tolist(),
        hint=hint,
    )


# -- decisions applied -------------------------------------------------------------------------
@dataclass
class Reviewed:
    """The quotes a person approved (``bank``), the review sheet, the quotes left out with why,
    and the IDs whose recorded decision no longer applies."""

    bank: pd.DataFrame
    sheet: pd.DataFrame
    excluded: pd.DataFrame
    stale: list[str] = field(default_factory=list)


def apply_reviews(candidates: pd.DataFrame, reviews: pd.DataFrame, *, wave: str) -> Reviewed:
    """Let through only the candidates approved for exactly their redacted text."""
    by_key = {(r["quote_id"], r[TEXT_SHA256]): r for r in reviews.to_dict("records")}
    by_id: dict[str, list[dict]] = {}
    for record in reviews.to_dict("records"):
        by_id.setdefault(record["quote_id"], []).append(record)
    sheet, bank, excluded, stale = [], [], [], []
    for cand in candidates.to_dict("records"):
        qid, sha = str(cand["quote_id"]), str(cand[TEXT_SHA256])
        decision = by_key.get((qid, sha))
        if decision is not None:
            status = APPROVED if decision["decision"] == APPROVE else REJECTED
        else:
            status = OTHER_TEXT if qid in by_id else NOT_REVIEWED
        who = decision or {"reviewed_by": pd.NA, "reviewed_on": pd.NA}
        sheet.append(
            {
                **{c: cand.get(c) for c in SHEET_COLUMNS if c in cand},
                "wave": str(wave),
                "status": status,
                "reviewed_by": who["reviewed_by"],
                "reviewed_on": who["reviewed_on"],
            }
        )
        if status == APPROVED:
            bank.append(
                {**cand, "reviewed_by": who["reviewed_by"], "reviewed_on": who["reviewed_on"]}
            )
            continue
        if status == OTHER_TEXT:
            stale.append(qid)
        excluded.append({"quote_id": qid, "reason": _why_out(status, str(cand[CHECK] or ""))})
    present = set(candidates["quote_id"].astype(str))
    for qid, records in sorted(by_id.items()):
        approvals = [r for r in records if r["decision"] == APPROVE]
        if qid not in present and approvals:
            stale.append(qid)
            last = approvals[-1]
            sheet.append(
                {
                    "wave": str(wave),
                    "quote_id": qid,
                    TEXT_SHA256: last[TEXT_SHA256],
                    "status": GONE,
                    "reviewed_by": last["reviewed_by"],
                    "reviewed_on": last["reviewed_on"],
                }
            )
    return Reviewed(
        bank=pd.DataFrame(bank, columns=REVIEWED_BANK_COLUMNS),
        sheet=pd.DataFrame(sheet, columns=SHEET_COLUMNS),
        excluded=pd.DataFrame(excluded, columns=["quote_id", "reason"]),
        stale=sorted(stale),
    )


def _why_out(status: str, check: str) -> str:
    if status == REJECTED:
        return "rejected by a reviewer"
    if status == OTHER_TEXT:
        return (
            "reviewed for another text: its redacted text changed since the review; review it again"
        )
    return "not reviewed by a person yet" + (f"; automatic check: {check}" if check else "")


# -- what the console says ---------------------------------------------------------------------
def review_sheets(results: Path | str) -> list[Path]:
    """Every review sheet of a run, sorted."""
    return sorted(Path(results).glob(f"interviews/*/*/{SHEET_FILE}"))


def review_warnings(results: Path | str) -> list[str]:
    """One line per quote whose recorded decision no longer applies (for the run summary)."""
    lines = []
    for sheet in review_sheets(results):
        dataset, wave = sheet.parent.parent.name, sheet.parent.name
        try:
            table = pd.read_csv(sheet, dtype=str, keep_default_na=False)
        except (OSError, ValueError):
            continue
        for _, row in table.loc[table["status"].isin([OTHER_TEXT, GONE])].iterrows():
            why = (
                "its redacted text changed since it was reviewed"
                if row["status"] == OTHER_TEXT
                else "it is no longer a candidate (see quotes_excluded.csv)"
            )
            lines.append(
                f"{dataset} {wave}: the review of quote {row['quote_id']} no longer applies: "
                f"{why}; it stays out of the briefs until reviewed again (wps quotes review)"
            )
    return lines


# -- wps quotes review -------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`wps quotes review`: where the review sheets are and what to fill in."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    review = sub.add_parser("review", help="where the review sheets are and what to fill in")
    review.add_argument("--results", type=Path, default=Path("results"))
    review.add_argument("--raw", type=Path, default=Path("data/raw"))


def run(args: argparse.Namespace) -> int:
    sheets = review_sheets(args.results)
    if not sheets:
        print(f"No quote review sheet under {args.results}/interviews: run the workflow first.")
        return 1
    for sheet in sheets:
        dataset, wave = sheet.parent.parent.name, sheet.parent.name
        table = pd.read_csv(sheet, dtype=str, keep_default_na=False)
        counts = table["status"].value_counts()
        told = ", ".join(f"{counts.get(s, 0)} {s}" for s in (APPROVED, REJECTED, NOT_REVIEWED))
        stale = int(counts.get(OTHER_TEXT, 0) + counts.get(GONE, 0))
        reviews = args.raw / dataset / REVIEWS_FILE
        print(f"{dataset} {wave}: review sheet {sheet} (owner-only: never share or send it)")
        print(f"  {told}; {stale} whose review no longer applies")
        print(f"  decisions go in {reviews}" + ("" if reviews.is_file() else " (create it)"))
    print(
        "\nRead each quote in the sheet as a brief would print it. Approve it only if nobody "
        "could be recognised from it (names, places, numbers, in any script), otherwise "
        "reject it.\nAdd one row per decision, under the header line\n  "
        + ",".join((*REVIEW_COLUMNS, *OPTIONAL_COLUMNS))
        + f"\n{FILL[0].upper()}{FILL[1:]}.\nThen run the workflow again (make run): only quotes "
        "approved for exactly the text you read reach a brief."
    )
    return 0
