"""Quotes reach a brief only when a person approved exactly their redacted text (issue 14).

A review sheet (restricted tier) lists every candidate quote with the SHA-256 of its redacted
text; the reviewer's file records approve/reject, who and when. Unreviewed quotes, rejected
quotes and quotes whose text changed since the review stay out; a quote in a script the redactor
cannot check gets in only through a person's approval of exactly its redacted text.
"""

from __future__ import annotations

import hashlib
import json
import re
import runpy
import stat
import unicodedata
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from analysis.clean.redaction import (
    UNCERTAIN_SCRIPT,
    UNCERTAIN_WORD,
    consented_and_deidentified,
    held_for_review,
)
from analysis.errors import WpsInputError
from analysis.interviews.quotes import candidate_quotes
from analysis.interviews.review import (
    APPROVED,
    GONE,
    NOT_REVIEWED,
    OTHER_TEXT,
    REJECTED,
    REVIEW_COLUMNS,
    REVIEWS_FILE,
    apply_reviews,
    empty_reviews,
    read_reviews,
    review_warnings,
)
from analysis.provenance.tiers import is_restricted
from analysis.run.summary import run_summary

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
THRESHOLD = CONFIG["disclosure"]["threshold_interviews"]
TODAY = date(2025, 7, 1)
THAI = "ตำรวจหญิงชื่อสมศรีช่วยฉัน The police helped me."  # "a policewoman named Somsri..."
QUOTES = {
    "Q-0001": "The police in Phnom Penh helped me. A woman officer listened.",
    "Q-0002": "We stayed there for 3 months in 2019.",
    "Q-0003": THAI,
    "Q-0004": "Then Xavutho hit me and took my money.",  # an unknown capitalised word
    "Q-0005": THAI + " Call 081 555 0199 or 12345.",  # Thai, and a number left: never reviewable
}


def interviews() -> pd.DataFrame:
    """A cleaned-looking interview table: six women survivors, one consented quote each."""
    rows = []
    for i, quote_id in enumerate([*QUOTES, "Q-0006"], start=1):
        base = {
            "interview_id": f"I{i:02d}",
            "respondent_type": "Survivor",
            "sex": "Woman",
            "country": "Cambodia",
            "quote": QUOTES.get(quote_id, "I was afraid of the boat."),
            "quote_consent": "yes",
            "quote_id": quote_id,
        }
        rows += [{**base, "coder": "A", "code": "debt"}, {**base, "coder": "B", "code": "debt"}]
    return pd.DataFrame(rows)


def candidates() -> pd.DataFrame:
    found, _ = candidate_quotes(interviews(), threshold=THRESHOLD)
    return found


def sha_of(quote_id: str) -> str:
    return str(candidates().set_index("quote_id").loc[quote_id, "text_sha256"])


def reviews(*rows: tuple[str, str, str], wave: str = "2024") -> pd.DataFrame:
    """Decisions (quote_id, text_sha256, decision), as read_reviews returns them."""
    table = pd.DataFrame(
        [
            {
                "wave": wave,
                "quote_id": q,
                "text_sha256": sha,
                "decision": decision,
                "reviewed_by": "R. Reviewer",
                "reviewed_on": "2025-06-02",
                "row": n + 2,
            }
            for n, (q, sha, decision) in enumerate(rows)
        ]
    )
    return table if rows else empty_reviews()


# -- the gate ------------------------------------------------------------------------------------
def test_an_unreviewed_quote_never_reaches_the_bank() -> None:
    found = candidates()
    assert "Q-0001" in set(found["quote_id"])  # the automatic checks pass it
    outcome = apply_reviews(found, empty_reviews(), wave="2024")
    assert outcome.bank.empty
    assert set(outcome.sheet["status"]) == {NOT_REVIEWED}
    reasons = outcome.excluded.set_index("quote_id")["reason"]
    assert reasons["Q-0001"].startswith("not reviewed by a person")
    assert QUOTES["Q-0001"] not in outcome.excluded.to_csv(index=False)


def test_an_approved_quote_enters_with_who_and_when() -> None:
    outcome = apply_reviews(
        candidates(),
        reviews(("Q-0001", sha_of("Q-0001"), "approve"), ("Q-0002", sha_of("Q-0002"), "reject")),
        wave="2024",
    )
    assert list(outcome.bank["quote_id"]) == ["Q-0001"]
    row = outcome.bank.iloc[0]
    assert row["quote"] == QUOTES["Q-0001"]
    assert (row["reviewed_by"], row["reviewed_on"]) == ("R. Reviewer", "2025-06-02")
    assert row["text_sha256"] == hashlib.sha256(QUOTES["Q-0001"].encode("utf-8")).hexdigest()
    status = outcome.sheet.set_index("quote_id")["status"]
    assert status["Q-0001"] == APPROVED and status["Q-0002"] == REJECTED
    assert outcome.excluded.set_index("quote_id")["reason"]["Q-0002"] == "rejected by a reviewer"
    assert outcome.stale == []


def test_an_approval_of_another_text_does_not_apply_and_the_summary_says_so(
    tmp_path: Path,
) -> None:
    before = hashlib.sha256(b"The police in Phnom Penh helped me.").hexdigest()
    outcome = apply_reviews(candidates(), reviews(("Q-0001", before, "approve")), wave="2024")
    assert outcome.bank.empty
    assert outcome.sheet.set_index("quote_id")["status"]["Q-0001"] == OTHER_TEXT
    assert outcome.stale == ["Q-0001"]
    assert "review it again" in outcome.excluded.set_index("quote_id")["reason"]["Q-0001"]
    sheet = tmp_path / "results" / "interviews" / "interviews" / "2024" / "quote_review.csv"
    sheet.parent.mkdir(parents=True)
    outcome.sheet.to_csv(sheet, index=False)
    (warning,) = review_warnings(tmp_path / "results")
    assert "Q-0001" in warning and "no longer applies" in warning and "2024" in warning
    assert "Q-0001" in run_summary(tmp_path / "results")


def test_an_approval_of_a_quote_that_is_no_longer_a_candidate_is_named() -> None:
    found = candidates()
    gone = found.loc[found["quote_id"] != "Q-0002"]  # e.g. consent withdrawn since the review
    outcome = apply_reviews(gone, reviews(("Q-0002", sha_of("Q-0002"), "approve")), wave="2024")
    assert outcome.bank.empty and outcome.stale == ["Q-0002"]
    row = outcome.sheet.set_index("quote_id").loc["Q-0002"]
    assert row["status"] == GONE and pd.isna(row["quote"])


# -- scripts the redactor cannot check -------------------------------------------------------
def test_a_thai_script_quote_enters_only_after_approval_of_its_redacted_text() -> None:
    found = candidates().set_index("quote_id")
    assert found.loc["Q-0003", "automatic_check"] == UNCERTAIN_SCRIPT.format(scripts="Thai")
    assert apply_reviews(candidates(), empty_reviews(), wave="2024").bank.empty
    raw_text = hashlib.sha256(THAI.encode("utf-8")).hexdigest()  # not what the sheet showed
    redacted = found.loc["Q-0003", "text_sha256"]
    if redacted != raw_text:
        wrong = apply_reviews(candidates(), reviews(("Q-0003", raw_text, "approve")), wave="2024")
        assert wrong.bank.empty
    outcome = apply_reviews(candidates(), reviews(("Q-0003", redacted, "approve")), wave="2024")
    assert list(outcome.bank["quote_id"]) == ["Q-0003"]
    assert outcome.bank.iloc[0]["quote"] == found.loc["Q-0003", "quote"]


def test_other_doubts_keep_a_quote_out_whatever_a_reviewer_says() -> None:
    found, excluded = candidate_quotes(interviews(), threshold=THRESHOLD)
    assert {"Q-0004", "Q-0005"}.isdisjoint(found["quote_id"])
    reasons = excluded.set_index("quote_id")["reason"]
    assert reasons["Q-0004"] == UNCERTAIN_WORD
    assert not held_for_review(reasons["Q-0005"]) and reasons["Q-0005"]
    sha = hashlib.sha256(QUOTES["Q-0004"].encode("utf-8")).hexdigest()
    outcome = apply_reviews(found, reviews(("Q-0004", sha, "approve")), wave="2024")
    assert "Q-0004" not in set(outcome.bank["quote_id"])


def test_cleaning_keeps_a_script_only_doubt_for_review_and_blanks_the_rest() -> None:
    texts = pd.Series([THAI, QUOTES["Q-0004"], QUOTES["Q-0005"], QUOTES["Q-0001"]])
    kept = consented_and_deidentified(texts, pd.Series(["yes"] * 4), {"สมศรี": "[name]"})
    assert kept[0] == unicodedata.normalize("NFKC", THAI.replace("สมศรี", "[name]"))
    assert pd.isna(kept[1]) and pd.isna(kept[2]) and kept[3] == QUOTES["Q-0001"]


# -- the reviewer's file -----------------------------------------------------------------------
GOOD = "2024,Q-0001,{sha},approve,R. Reviewer,2025-06-02,"


def reviews_file(tmp_path: Path, *lines: str, header: str = "") -> Path:
    folder = tmp_path / "raw" / "interviews"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2024.xlsx").write_bytes(b"")
    path = folder / REVIEWS_FILE
    head = header or ",".join((*REVIEW_COLUMNS, "note"))
    path.write_text("\n".join([head, *lines]) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> pd.DataFrame:
    return read_reviews(
        path,
        dataset="interviews",
        wave="2024",
        waves=["2024"],
        known_ids=["Q-0001", "Q-0002"],
        today=TODAY,
    )


def test_a_good_reviews_file_is_read_with_its_line_numbers(tmp_path: Path) -> None:
    sha = "A" * 64
    path = reviews_file(
        tmp_path, GOOD.format(sha=sha), "", " 2024 ,Q-0002,{},REJECT,R,2025-06-30,".format("b" * 64)
    )
    table = read(path)
    assert list(table["quote_id"]) == ["Q-0001", "Q-0002"]
    assert list(table["row"]) == [2, 4]  # the blank line is counted, as an editor shows it
    assert list(table["decision"]) == ["approve", "reject"] and table["text_sha256"][0] == "a" * 64


SHA = "a" * 64
BAD = [
    # (line, column named, words of the problem)
    (f"2024,Q-0099,{SHA},approve,R,2025-06-02,", "quote_id", "no quote of wave 2024"),
    (f"2024,Q-0001,{SHA},approve,,2025-06-02,", "reviewed_by", "reviewed_by is empty"),
    (f"2024,Q-0001,{SHA},approve,R,,", "reviewed_on", "reviewed_on is empty"),
    (f"2024,Q-0001,{SHA},approve,R,2025-07-02,", "reviewed_on", "in the future"),
    (f"2024,Q-0001,{SHA},approve,R,02/06/2025,", "reviewed_on", "YYYY-MM-DD"),
    (f"2024,Q-0001,{SHA},ok,R,2025-06-02,", "decision", "'approve' or 'reject'"),
    ("2024,Q-0001,abc123,approve,R,2025-06-02,", "text_sha256", "not a SHA-256"),
    (f"2023,Q-0001,{SHA},approve,R,2025-06-02,", "wave", "no such wave"),
]


@pytest.mark.parametrize(("line", "column", "problem"), BAD)
def test_a_bad_row_is_refused_naming_file_row_column_and_what_to_do(
    tmp_path: Path, line: str, column: str, problem: str
) -> None:
    path = reviews_file(tmp_path, GOOD.format(sha="b" * 64), line)
    with pytest.raises(WpsInputError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message and f"column '{column}'" in message and "row 3" in message
    assert problem in message and "What to do:" in message


def test_two_decisions_on_one_quote_and_text_are_refused(tmp_path: Path) -> None:
    path = reviews_file(
        tmp_path, GOOD.format(sha=SHA), GOOD.format(sha=SHA).replace("approve", "reject")
    )
    with pytest.raises(WpsInputError, match=r"rows 2, 3.*more than one decision"):
        read(path)


def test_a_reviews_file_without_a_needed_column_is_refused(tmp_path: Path) -> None:
    path = reviews_file(
        tmp_path,
        f"2024,Q-0001,{SHA},approve,2025-06-02",
        header="wave,quote_id,text_sha256,decision,reviewed_on",
    )
    with pytest.raises(WpsInputError, match="no column 'reviewed_by'.*header line must be"):
        read(path)


# -- the workflow's adapter: restricted sheet, bank of approved quotes -----------------------
class Named(list):
    """Like Snakemake's Namedlist: paths with names as attributes, keys() and items()."""

    def __init__(self, named: dict) -> None:
        super().__init__(named.values())
        self._names = dict(named)
        for name, value in named.items():
            setattr(self, name, value)

    def keys(self):
        return self._names.keys()

    def items(self):
        return self._names.items()


OUTPUTS = (
    "frequencies",
    "themes",
    "cooccurrence",
    "theme_cooccurrence",
    "sex_differences",
    "reliability",
    "quotes",
    "quotes_excluded",
    "quote_review",
)


def run_adapter(root: Path, table: pd.DataFrame, reviews_path: Path | None) -> Path:
    """Run workflow/scripts/analyse_interviews.py in `root` on one wave; returns its folder."""
    codebook = json.loads((REPO / "data/raw/interviews/codebook.json").read_text("utf-8"))
    raw = root / "data" / "raw" / "interviews"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "codebook.json").write_text(json.dumps(codebook), encoding="utf-8")
    (raw / "2024.xlsx").write_bytes(b"")
    clean = root / "results" / "clean" / "interviews" / "2024.parquet"
    clean.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(clean)
    base = root / "results" / "interviews" / "interviews" / "2024"
    base.mkdir(parents=True, exist_ok=True)
    inputs = {"table": str(clean), "codebook": str(raw / "codebook.json")}
    if reviews_path is not None:
        inputs["reviews"] = str(reviews_path)
    outputs = {name: str(base / f"{name}.csv") for name in OUTPUTS}
    outputs["record"] = str(root / "results/provenance/jobs/analyse_interviews/x_2024.json")
    fake = SimpleNamespace(
        rule="analyse_interviews",
        input=Named(inputs),
        output=Named(outputs),
        params=Named({"threshold": THRESHOLD, "seed": 1}),
        wildcards=Named({"dataset": "interviews", "wave": "2024"}),
        log=Named({}),
        config={"seed": 1, "results_dir": str(root / "results"), "raw_dir": str(root / "data/raw")},
        threads=1,
    )
    runpy.run_path(
        str(REPO / "workflow/scripts/analyse_interviews.py"), init_globals={"snakemake": fake}
    )
    return base


def coded_table() -> pd.DataFrame:
    """Six survivors' interviews coded with codes of the bundled codebook."""
    codebook = json.loads((REPO / "data/raw/interviews/codebook.json").read_text("utf-8"))
    field = next(f for f in codebook["fields"] if f["name"] == "code")
    code = str(field["categories"][0]["value"])
    table = interviews()
    table["code"] = code
    return table


def test_the_adapter_writes_an_owner_only_sheet_and_a_bank_of_approved_quotes_only(
    tmp_path: Path,
) -> None:
    table = coded_table()
    base = run_adapter(tmp_path, table, None)
    sheet = pd.read_csv(base / "quote_review.csv", dtype=str)
    assert set(sheet["status"]) == {NOT_REVIEWED} and "Q-0003" in set(sheet["quote_id"])
    assert pd.read_csv(base / "quotes.csv").empty
    for name in ("quote_review", "quotes", "quotes_excluded"):
        mode = stat.S_IMODE((base / f"{name}.csv").stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    sha = sheet.set_index("quote_id").loc["Q-0003", "text_sha256"]
    path = tmp_path / "data" / "raw" / "interviews" / REVIEWS_FILE
    path.write_text(
        ",".join(REVIEW_COLUMNS) + f"\n2024,Q-0003,{sha},approve,R. Reviewer,2025-06-02\n",
        encoding="utf-8",
    )
    base = run_adapter(tmp_path, table, path)
    bank = pd.read_csv(base / "quotes.csv", dtype=str)
    assert list(bank["quote_id"]) == ["Q-0003"] and bank["reviewed_by"][0] == "R. Reviewer"


def test_the_review_sheet_is_restricted_and_not_in_the_snakemake_report() -> None:
    assert is_restricted("interviews/interviews/2024/quote_review.csv")
    assert is_restricted("results/interviews/my_study/2026/quote_review.csv")
    rule = (REPO / "workflow" / "rules" / "interviews.smk").read_text(encoding="utf-8")
    declared = re.search(r"^\s*quote_review=(.*)$", rule, re.MULTILINE)
    assert declared and "quote_review.csv" in declared.group(1)
    assert "report(" not in declared.group(1)
    assert not re.search(r"report\(\s*f?\"[^\"]*quote_review", rule)


def test_the_bundled_regional_quote_is_approved_for_its_current_text() -> None:
    """The bundled reviews file approves the quote the regional brief prints: its hash is that of
    the text the bundled interviews give after cleaning (checked end to end by the workflow)."""
    chosen = yaml.safe_load((REPO / "reports/regional/text/quotes.yaml").read_text("utf-8"))
    table = pd.read_csv(REPO / "data/raw/interviews" / REVIEWS_FILE, dtype=str)
    approved = table.loc[table["decision"] == "approve", "quote_id"]
    assert chosen["regional"] in set(approved)


def test_wps_quotes_review_says_where_the_sheet_is_and_what_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis.cli import main

    results, raw = tmp_path / "results", tmp_path / "raw"
    assert main(["quotes", "review", "--results", str(results), "--raw", str(raw)]) == 1
    outcome = apply_reviews(
        candidates(), reviews(("Q-0001", sha_of("Q-0001"), "approve")), wave="2024"
    )
    sheet = results / "interviews" / "interviews" / "2024" / "quote_review.csv"
    sheet.parent.mkdir(parents=True)
    outcome.sheet.to_csv(sheet, index=False)
    capsys.readouterr()
    assert main(["quotes", "review", "--results", str(results), "--raw", str(raw)]) == 0
    said = capsys.readouterr().out
    assert str(sheet) in said and str(raw / "interviews" / REVIEWS_FILE) in said
    assert "1 approved" in said and ",".join(REVIEW_COLUMNS) in said
