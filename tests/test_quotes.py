"""Quote bank: consent, redaction of planted identifiers, exclusion of uncertain quotes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.interviews.quotes import (
    NO_CONSENT,
    UNCERTAIN_SCRIPT,
    UNCERTAIN_WORD,
    Redactor,
    brief_speaker,
    build_quote_bank,
    identifiers_from,
    redact,
    typed_identifiers_from,
)

REPO = Path(__file__).resolve().parents[1]
GENERATED = REPO / "data" / "raw" / "interviews" / "2024.xlsx"
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
THRESHOLD = CONFIG["disclosure"]["threshold_interviews"]

RAW = pd.DataFrame(
    {
        "respondent_name": ["Sok Dara", "Khin Myo Thant", "Siriporn Boonmee", None],
        "village": ["Prek Chrey", "Kyauk Ta Lone", "Ban Nong Bua", "Thit Yar Gone"],
    }
)
PLANTED = {
    "names": ["Sok Dara", "Dara", "Khin Myo Thant", "Siriporn", "Boonmee"],
    "places": ["Prek Chrey", "Kyauk Ta Lone", "Ban Nong Bua", "Thit Yar Gone", "Mae Sot"],
    "phones": ["+855 12 345 678", "081-234-5678"],
    "emails": ["dara.sok@example.com"],
    "ages": ["17-year-old", "fifteen years old", "aged 16"],
    "employers": ["Golden Ocean Fishing", "Sunrise Garment Factory"],
}
QUOTES = [
    # (quote, consent)
    ("Sok Dara took me from Prek Chrey to Bangkok when I was 15.", "yes"),
    ("I was a 17-year-old girl. My broker's number was +855 12 345 678.", "yes"),
    ("Khin Myo Thant told me the boss at Golden Ocean Fishing kept our passports.", "yes"),
    ("In Kyauk Ta Lone village nobody believed me, so I wrote to dara.sok@example.com.", "yes"),
    ("Siriporn was fifteen years old when she left Ban Nong Bua for Mae Sot.", "yes"),
    ("The police in Phnom Penh helped me. A woman officer listened.", "yes"),
    ("Mr Boonmee at Sunrise Garment Factory called me on 081-234-5678, aged 16.", "yes"),
    ("The police did not believe me, they laughed.", "no"),
    ("Dara from Thit Yar Gone said nothing.", "No "),
    ("Then Xavutho hit me and took my money.", "yes"),  # unknown capitalised word
    ("We stayed there for 3 months in 2019.", "yes"),
]


def quote_table() -> pd.DataFrame:
    rows = []
    for i, (quote, consent) in enumerate(QUOTES, start=1):
        base = {
            "interview_id": f"I{i:02d}",
            "respondent_type": "Survivor",
            "sex": "Woman",
            "country": "Cambodia",
            "quote": quote,
            "quote_consent": consent,
            "quote_id": f"Q-{i:04d}",
        }
        rows.append({**base, "coder": "A", "code": "debt"})
        rows.append({**base, "coder": "B", "code": "documents"})
    rows.append({**rows[0], "interview_id": "I99", "quote": "", "quote_id": None})
    return pd.DataFrame(rows)


def planted_strings() -> list[str]:
    return [s for values in PLANTED.values() for s in values]


def test_identifiers_come_from_the_raw_table():
    found = identifiers_from(RAW)
    assert found == {
        "Sok Dara",
        "Khin Myo Thant",
        "Siriporn Boonmee",
        "Prek Chrey",
        "Kyauk Ta Lone",
        "Ban Nong Bua",
        "Thit Yar Gone",
    }
    typed = typed_identifiers_from(RAW)
    assert typed["Sok Dara"] == "[name]" and typed["Prek Chrey"] == "[place]"


@pytest.mark.parametrize("identifiers", ["typed", "plain", "none"])
def test_no_planted_identifier_in_the_bank(identifiers):
    passed = {
        "typed": typed_identifiers_from(RAW),
        "plain": identifiers_from(RAW),
        "none": None,
    }[identifiers]
    bank, excluded = build_quote_bank(quote_table(), planted_patterns=passed, threshold=THRESHOLD)
    assert not bank.empty
    text = " ".join(bank["quote"]).lower()
    for planted in planted_strings():
        assert planted.lower() not in text, planted
    for part in ("Dara", "Chrey", "Myo", "Thant", "Siriporn", "Boonmee", "Nong Bua", "Xavutho"):
        assert part.lower() not in text, part
    assert "15" not in text and "17" not in text and "16" not in text


def test_placeholders_replace_each_kind():
    bank, _ = build_quote_bank(
        quote_table(), planted_patterns=typed_identifiers_from(RAW), threshold=THRESHOLD
    )
    quotes = bank.set_index("quote_id")["quote"]
    assert quotes["Q-0001"] == "[name] took me from [place] to Bangkok when I was [age]."
    assert quotes["Q-0002"] == "I was [age] girl. My broker's number was [phone]."
    assert "[employer]" in quotes["Q-0003"] and quotes["Q-0003"].startswith("[name] told")
    assert "[email]" in quotes["Q-0004"] and "[place] village" in quotes["Q-0004"]
    # nothing to redact: the text is unchanged (province-level places stay)
    assert quotes["Q-0006"] == QUOTES[5][0]
    assert quotes["Q-0011"] == QUOTES[10][0]


def test_consent_is_required_and_excluded_lists_reasons_without_text():
    table = quote_table()
    bank, excluded = build_quote_bank(
        table, planted_patterns=identifiers_from(RAW), threshold=THRESHOLD
    )
    no_consent = set(table.loc[table["quote_consent"].str.strip().str.lower() != "yes", "quote_id"])
    assert no_consent == {"Q-0008", "Q-0009"}
    assert not no_consent & set(bank["quote_id"])
    for q, c in QUOTES:
        if c.strip().lower() != "yes":
            assert q not in " ".join(bank["quote"])
    reasons = excluded.set_index("quote_id")["reason"]
    assert reasons["Q-0008"] == NO_CONSENT and reasons["Q-0009"] == NO_CONSENT
    assert reasons["Q-0010"] == UNCERTAIN_WORD
    assert list(excluded.columns) == ["quote_id", "reason"]
    every = set(table["quote_id"].dropna())
    assert set(bank["quote_id"]) | set(excluded["quote_id"]) == every
    assert not set(bank["quote_id"]) & set(excluded["quote_id"])
    dump = excluded.to_csv(index=False)
    for q, _ in QUOTES:
        assert q not in dump
    assert bank["quote_id"].is_unique and bank["quote_id"].is_monotonic_increasing
    assert bank.set_index("quote_id").loc["Q-0001", "codes"] == "debt; documents"


def test_mixed_consent_rows_exclude_the_quote():
    table = quote_table()
    table.loc[(table["quote_id"] == "Q-0006") & (table["coder"] == "B"), "quote_consent"] = "no"
    bank, excluded = build_quote_bank(table, threshold=THRESHOLD)
    assert "Q-0006" not in set(bank["quote_id"])
    assert "Q-0006" in set(excluded["quote_id"])


def test_sentence_opening_words_seen_in_lower_case_are_accepted():
    check = Redactor().uncertainty
    assert check("Write to me.") == UNCERTAIN_WORD
    assert check("Write to me.", frozenset({"write"})) == ""
    assert check("Then Xavutho came.", frozenset({"xavutho"})) == UNCERTAIN_WORD  # mid-sentence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She was an 18-year-old student.", "She was [age] student."),
        ("At the age of 14 I left home.", "[age] I left home."),
        ("Call 012 345 678 now.", "Call [phone] now."),
        ("We were 12 people on the boat.", "We were 12 people on the boat."),
    ],
)
def test_redact_patterns(text, expected):
    assert redact(text) == expected


def _planted_from_generator() -> object:
    for name in ("analysis.synth.interviews", "analysis.synth.fake"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr in ("PLANTED_IDENTIFIERS", "PLANTED", "PLANTED_PATTERNS"):
            if hasattr(module, attr):
                return getattr(module, attr)
    return None


def _flatten(planted: object) -> list[str]:
    if isinstance(planted, str):
        return [planted]
    if isinstance(planted, dict):
        return [s for v in planted.values() for s in _flatten(v)] + [
            k for k, v in planted.items() if isinstance(v, str) and not k.isidentifier()
        ]
    return [s for v in planted for s in _flatten(v)]  # type: ignore[union-attr]


def check_generated_export(path: Path) -> None:
    """Read a generated .xlsx export and assert no planted identifier survives the bank."""
    planted = _planted_from_generator()
    if planted is None:
        pytest.skip("the interview generator exposes no PLANTED_IDENTIFIERS")
    raw = pd.read_excel(path, engine="openpyxl")
    bank, excluded = build_quote_bank(
        raw, planted_patterns=typed_identifiers_from(raw), threshold=THRESHOLD
    )
    assert len(bank) > 0
    consented = raw.loc[raw["quote_consent"].astype(str).str.strip().str.lower() == "yes"]
    assert set(bank["quote_id"]) <= set(consented["quote_id"].dropna())
    text = " ".join(bank["quote"]).lower()
    identifiers = [s for s in _flatten(planted) if s.strip()]
    assert identifiers
    for identifier in identifiers:
        assert identifier.lower() not in text, "a planted identifier survived redaction"
    for column in ("respondent_name", "village"):
        for value in raw[column].dropna().astype(str).unique():
            assert value.lower() not in text, f"a {column} survived redaction"
    assert list(excluded.columns) == ["quote_id", "reason"]
    # without the transient list from the raw table the planted details still do not survive
    bank_blind, _ = build_quote_bank(raw, threshold=THRESHOLD)
    blind = " ".join(bank_blind["quote"]).lower()
    for identifier in identifiers:
        assert identifier.lower() not in blind, "a planted identifier survived redaction"


def test_bundled_interviews_leave_no_planted_identifier():
    if not GENERATED.is_file():
        pytest.skip(f"{GENERATED} not generated yet (run `make example-data`)")
    check_generated_export(GENERATED)


def test_freshly_generated_interviews_leave_no_planted_identifier(tmp_path):
    try:
        from analysis.synth.interviews import generate
    except ImportError:
        pytest.skip("analysis.synth.interviews (the generator) is not available")
    xlsx = next(p for p in generate(tmp_path) if p.suffix == ".xlsx")
    check_generated_export(xlsx)


def test_quotes_in_scripts_the_redactor_cannot_check_stay_out_with_the_reason():
    table = quote_table()
    table.loc[table["quote_id"] == "Q-0006", "quote"] = "ตำรวจหญิงช่วยฉัน The police helped me."
    bank, excluded = build_quote_bank(table, threshold=THRESHOLD)
    assert "Q-0006" not in set(bank["quote_id"])
    reason = excluded.set_index("quote_id").loc["Q-0006", "reason"]
    assert reason == UNCERTAIN_SCRIPT.format(scripts="Thai")


def test_the_brief_prints_only_the_label_the_bank_shows():
    people = [("Facilitator", "Cambodia")] * 2 + [("Facilitator", "Myanmar")] * 4
    table = pd.DataFrame(
        [
            {
                "interview_id": f"F{i}",
                "respondent_type": rtype,
                "sex": "Woman",
                "country": country,
                "coder": "A",
                "code": "debt",
                "quote": "We met every week at the office.",
                "quote_consent": "yes",
                "quote_id": f"Q-{i:04d}",
            }
            for i, (rtype, country) in enumerate(people)
        ]
    )
    bank, _ = build_quote_bank(table, threshold=THRESHOLD)
    assert len(bank) == len(people) and bank["country"].isna().all()
    printed = {brief_speaker(row) for _, row in bank.iterrows()}
    assert printed == {"facilitator"}
