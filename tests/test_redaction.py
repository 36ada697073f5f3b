"""Redaction that does not depend on script or case, IDs kept as declared, quote labels that
never name a group below the interview disclosure threshold (issue 14 items 2 and 5, issue 12
item 6).

The secrets are checked with this file's own normaliser (NFKC, case-folding, digits of any
system read with ``unicodedata.digit``, separators dropped), not with the module's.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.clean.redaction import (
    NAME,
    PHONE,
    Redactor,
    is_free_text,
    redact,
    typed_identifiers_from,
)
from analysis.clean.wave import clean
from analysis.errors import CodebookError
from analysis.interviews.quotes import build_quote_bank
from analysis.io import RawTable
from analysis.validate.codebook import codebook_from_dict, load_codebook
from analysis.validate.wave import validate

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
THRESHOLD = CONFIG["disclosure"]["threshold_interviews"]
INTERVIEWS = REPO / "data" / "raw" / "interviews"
KEY = b"test-key-0123456789abcdef"

# The reviewer's attack (issue 14 item 2), and the same with Thai digits and other disguises.
ATTACK = "ฉันชื่อสมศรีแก้วมณี my boss somchai kongsri kept my passport, call 081/555/0199"
VARIANTS = [
    ATTACK,
    ATTACK.replace("081/555/0199", "๐๘๑/๕๕๕/๐๑๙๙"),  # Thai digits
    ATTACK.replace("081/555/0199", "០៨១ ៥៥៥ ០១៩៩"),  # Khmer digits
    ATTACK.replace("081/555/0199", "(٠٨١) ٥٥٥-٠١٩٩"),  # Arabic-Indic digits
    ATTACK.replace("081/555/0199", "０８１．５５５．０１９９"),  # full width
    ATTACK.replace("081/555/0199", "၀၈၁-၅၅၅-၀၁၉၉"),  # Myanmar digits
    ATTACK.replace("081/555/0199", "໐໘໑ ໕໕໕ ໐໑໙໙"),  # Lao digits
    ATTACK.replace("สมศรี", "สม\u200bศรี"),  # a zero-width space inside the name
    ATTACK.replace("somchai kongsri", "SOMCHAI KONGSRI"),
    "my boss somchai kongsri kept my passport, call 081/555/0199",  # Latin only, lower case
]
SECRET_WORDS = ("สมศรี", "แก้วมณี", "somchai", "kongsri")
SECRET_DIGITS = "0815550199"
# The people of the attack as a dataset holds them: the speaker and, on another row, the boss.
DATASET_IDENTIFIERS = {
    "สมศรี แก้วมณี": NAME,
    "Somchai Kongsri": NAME,
    "081 555 0199": PHONE,
}


def folded(text: str) -> str:
    """NFKC, case-folded, digits of any system as 0-9, zero-width characters dropped."""
    out = []
    for ch in unicodedata.normalize("NFKC", str(text)):
        if unicodedata.category(ch) == "Cf":
            continue
        digit = unicodedata.digit(ch, None)
        out.append(str(digit) if digit is not None else ch.casefold())
    return "".join(out)


def leaked(text: str) -> list[str]:
    """Secrets of the attack found in ``text`` (in any case, script of digits or separators)."""
    flat = folded(text)
    digits = "".join(ch for ch in flat if ch.isdigit())
    found = [w for w in SECRET_WORDS if w in flat]
    return found + ([SECRET_DIGITS] if SECRET_DIGITS in digits else [])


# -- redaction itself --------------------------------------------------------------------------
@pytest.mark.parametrize("quote", VARIANTS)
def test_identifiers_of_the_dataset_are_removed_in_any_script_case_and_digits(quote):
    out = redact(quote, DATASET_IDENTIFIERS)
    assert leaked(out) == [], out
    assert "kept my passport" in out  # ordinary words stay


@pytest.mark.parametrize("quote", VARIANTS)
def test_phone_in_any_digit_system_and_separator_is_removed_without_identifiers(quote):
    out = redact(quote)
    assert SECRET_DIGITS not in "".join(ch for ch in folded(out) if ch.isdigit()), out


@pytest.mark.parametrize("quote", VARIANTS)
def test_the_attack_never_passes_as_certain(quote):
    """Without the names in the data, what is left is uncertain: the quote would stay out."""
    redactor = Redactor()
    out = redactor(quote)
    assert leaked(out) == [] or redactor.uncertainty(out) != ""


def test_name_parts_from_any_row_match_inside_words_of_unspaced_scripts():
    identifiers = {"Ma Thandar Aye": NAME, "សុខ ដារ៉ា": NAME}
    out = redact("ខ្ញុំឈ្មោះសុខដារ៉ា and thandar came too", identifiers)
    assert "សុខ" not in out and "ដារ៉ា" not in out and "thandar" not in out.lower()


def test_a_latin_name_part_inside_a_longer_word_makes_the_text_uncertain():
    redactor = Redactor({"Siriporn Boonmee": NAME})
    out = redactor("they called her boonmeeporn at the factory")
    assert redactor.uncertainty(out) != ""


# -- the quote bank and the cleaned table ------------------------------------------------------
def attacked_wave() -> tuple[pd.DataFrame, int]:
    """The bundled interview export with the attack planted in one consented quote; the
    speaker's name in Thai on her rows, the boss's name on another interview's rows."""
    raw = pd.read_excel(INTERVIEWS / "2024.xlsx", engine="openpyxl")
    consented = raw["quote_consent"].eq("yes") & raw["quote_id"].notna()
    row = int(raw.index[consented][0])
    speaker = raw.at[row, "interview_id"]
    other = raw.loc[raw["interview_id"] != speaker, "interview_id"].iloc[0]
    raw.at[row, "quote"] = ATTACK
    raw.loc[raw["interview_id"] == speaker, "respondent_name"] = "สมศรี แก้วมณี"
    raw.loc[raw["interview_id"] == other, "respondent_name"] = "Somchai Kongsri"
    return raw, row


@pytest.fixture(scope="module")
def attacked() -> tuple[pd.DataFrame, int]:
    if not (INTERVIEWS / "2024.xlsx").is_file():
        pytest.skip("data/raw/interviews/2024.xlsx not generated (run `make example-data`)")
    return attacked_wave()


def test_attack_survives_neither_the_bank_nor_the_excluded_list(attacked):
    raw, row = attacked
    for planted in (typed_identifiers_from(raw), None):
        bank, excluded = build_quote_bank(raw, planted_patterns=planted, threshold=THRESHOLD)
        assert leaked(bank.to_csv(index=False)) == []
        assert leaked(excluded.to_csv(index=False)) == []
        quote_id = str(raw.at[row, "quote_id"])
        assert quote_id in set(bank["quote_id"]) | set(excluded["quote_id"])


def test_attack_survives_nowhere_in_the_cleaned_table_nor_its_bank(attacked):
    raw, _ = attacked
    codebook = load_codebook(INTERVIEWS / "codebook.json")
    valid = validate(RawTable(data=raw), codebook, dataset="interviews", file="2024.xlsx").valid
    out = clean(valid, codebook, dataset="interviews", wave="2024", key=KEY)
    assert leaked(out.data.to_csv(index=False)) == []
    assert leaked(json.dumps(out.codebook, ensure_ascii=False)) == []
    bank, excluded = build_quote_bank(out.data, threshold=THRESHOLD)
    assert leaked(bank.to_csv(index=False) + excluded.to_csv(index=False)) == []
    assert len(bank) > 100  # the other quotes are still there


# -- free text only where the codebook says so (issue 12 item 6) ------------------------------
API_LIKE = codebook_from_dict(
    {
        "name": "schools",
        "primaryKey": ["snum"],
        "fields": [
            {"name": "snum", "type": "integer", "x-identifier": "none"},
            {"name": "cds", "type": "string", "x-identifier": "none", "title": "CDS code"},
            {"name": "head", "type": "string", "x-identifier": "direct"},
            {"name": "note", "type": "string", "x-free-text": True},
            {"name": "api00", "type": "integer"},
        ],
    }
)
CDS = ["19642126061220", "01611196090005", "37683386039143", "56739405630082"]


def test_a_14_digit_id_declared_none_survives_intact_and_free_text_is_redacted():
    frame = pd.DataFrame(
        {
            "snum": [1, 2, 3, 4],
            "cds": CDS,
            "head": ["Maria Lopez", "Jo Chen", "Ann Lee", "Raj Patel"],
            "note": ["call maria on 081 555 0199", "fine", None, "ok"],
            "api00": [693, 570, 546, 571],
        }
    )
    result = validate(RawTable(data=frame), API_LIKE, dataset="schools", file="api.csv")
    assert result.quarantine.empty
    out = clean(result.valid, API_LIKE, dataset="schools", wave="2000", key=KEY).data
    assert out["cds"].tolist() == CDS
    notes = out.set_index("snum")["note"]
    assert notes[1] == "call [name] on [phone]" and notes[2] == "fine"
    assert "head" not in out.columns


def test_free_text_is_what_the_codebook_declares():
    fields = API_LIKE.fields
    assert not is_free_text(fields["cds"]) and is_free_text(fields["note"])
    interviews = load_codebook(INTERVIEWS / "codebook.json").fields
    assert is_free_text(interviews["quote"]) and not is_free_text(interviews["quote_id"])


# -- quote labels --------------------------------------------------------------------------
TYPES = ("Survivor", "Family member", "Front-line officer", "Facilitator")
SEXES = ("Woman", "Man")
COUNTRIES = ("Cambodia", "Myanmar", "Thailand")
LABELLED = ("respondent_type", "sex", "country")


def roster_table(people: list[tuple[str, str, str]]) -> pd.DataFrame:
    """One consented, harmless quote per interviewee (long shape, coder A)."""
    return pd.DataFrame(
        [
            {
                "interview_id": f"INT-{i:03d}",
                "respondent_type": rtype,
                "sex": sex,
                "country": country,
                "coder": "A",
                "code": None,
                "quote": "We waited a long time at the border.",
                "quote_consent": "yes",
                "quote_id": f"Q-{i:04d}",
            }
            for i, (rtype, sex, country) in enumerate(people, start=1)
        ]
    )


def members(roster: pd.DataFrame, label: pd.Series) -> pd.Series:
    """Interviewees matching every attribute the label shows (boolean, roster's index)."""
    match = pd.Series(True, index=roster.index)
    for column in LABELLED:
        if pd.notna(label[column]):
            match &= roster[column] == label[column]
    return match


def check_labels(people: list[tuple[str, str, str]]) -> None:
    roster = roster_table(people).set_index("quote_id", drop=False)
    bank, excluded = build_quote_bank(roster, threshold=THRESHOLD)
    assert len(bank) == (len(people) if len(people) >= THRESHOLD else 0)
    assert len(bank) + len(excluded) == len(people)
    bank = bank.set_index("quote_id", drop=False)
    pattern = bank[list(LABELLED)].notna().apply(tuple, axis=1)
    for quote_id, label in bank.iterrows():
        group = members(roster, label)
        assert group.sum() >= THRESHOLD, label.to_dict()
        # the brief prints respondent type and country: a coarser label, also safe
        assert members(roster, label.drop("sex").reindex(label.index)).sum() >= THRESHOLD
        for column in LABELLED:  # a shown value is the speaker's own
            if pd.notna(label[column]):
                assert label[column] == roster.loc[quote_id, column]
        # what a label leaves out says nothing: everyone in the named group shows the same
        assert pattern[group[group].index].nunique() == 1


def test_four_men_survivors_are_never_labelled_men():
    people = (
        [("Survivor", "Woman", c) for c in COUNTRIES for _ in range(11)]
        + [("Survivor", "Man", "Cambodia")] * 3
        + [("Survivor", "Man", "Myanmar")]
        + [("Front-line officer", "Man", "Thailand")] * 6
    )
    check_labels(people)
    bank, _ = build_quote_bank(roster_table(people), threshold=THRESHOLD)
    survivors = bank[bank["respondent_type"] == "Survivor"]
    assert not survivors["sex"].eq("Man").any()
    assert "Survivor, Myanmar" in set(bank["speaker"])  # the man's quote, coarsened


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(TYPES), st.sampled_from(SEXES), st.sampled_from(COUNTRIES)),
        min_size=1,
        max_size=45,
    )
)
def test_every_printed_label_names_at_least_threshold_interviewees(people):
    check_labels(people)


def test_a_free_text_declaration_that_is_not_a_boolean_is_a_clear_error():
    with pytest.raises(CodebookError, match="x-free-text of field 'remark'"):
        is_free_text({"name": "remark", "type": "string", "x-free-text": "yes"})


def test_undeclared_text_is_kept_as_declared_with_a_warning_naming_the_field(capsys):
    codebook = codebook_from_dict(
        {
            "name": "schools",
            "fields": [
                {"name": "cds", "type": "string"},
                {"name": "visit_notes", "type": "string"},
            ],
        }
    )
    notes = ["the principal showed us the new library", "ok", "ring 081 555 0199 after five"]
    frame = pd.DataFrame({"cds": CDS[:3], "visit_notes": notes})
    valid = validate(RawTable(data=frame), codebook, dataset="schools", file="api.csv").valid
    out = clean(valid, codebook, dataset="schools", wave="2000", key=KEY).data
    assert out["visit_notes"].tolist() == notes and out["cds"].tolist() == CDS[:3]
    err = capsys.readouterr().err
    assert "visit_notes" in err and "x-free-text" in err and "cds" not in err
    assert "081" not in err  # the warning names the field, never a value
