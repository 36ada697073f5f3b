"""De-identified quote bank from coded interviews.

Only quotes whose respondent consented ("yes") are kept, redacted by the one redaction rule of
:mod:`analysis.clean.redaction` (identifiers of the dataset in any script and case, numbers in any
digit system, built-in lists for the region). A quote with anything left uncertain is excluded,
except one whose only doubt is a script the redactor cannot check: it is a *candidate* for a
person's review (:func:`candidate_quotes`). The ``excluded`` table names every quote left out and
why, never its text. No quote reaches a brief before a person approved it
(:mod:`analysis.interviews.review`).

Each kept quote is labelled with its speaker's respondent type, country and sex only as far as
the group it names has at least the interview disclosure threshold of interviewees
(:func:`analysis.interviews.themes.quote_labels`): with four men survivors no label says "Man".
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from analysis.clean.redaction import (
    UNCERTAIN_AT,
    UNCERTAIN_NUMBER,
    UNCERTAIN_PART,
    UNCERTAIN_SCRIPT,
    UNCERTAIN_WORD,
    Redactor,
    held_for_review,
    identifiers_from,
    lowercase_vocabulary,
    normalise_identifiers,
    redact,
    typed_identifiers_from,
)
from analysis.interviews.themes import ID, LABEL_ATTRIBUTES, code_table, quote_labels, to_long

__all__ = [
    "UNCERTAIN_AT",
    "UNCERTAIN_NUMBER",
    "UNCERTAIN_PART",
    "UNCERTAIN_SCRIPT",
    "UNCERTAIN_WORD",
    "Redactor",
    "build_quote_bank",
    "candidate_quotes",
    "identifiers_from",
    "redact",
    "brief_speaker",
    "speaker",
    "text_sha256",
    "typed_identifiers_from",
]

NO_CONSENT = "no consent to quote (quote_consent is not 'yes')"
MIXED_CONSENT = "rows of this quote disagree on consent"
MIXED_TEXT = "rows of this quote carry different texts"
NO_ID = "quote without a quote_id"
TOO_FEW = "fewer interviewees in the wave than the disclosure threshold ({threshold})"
BANK_COLUMNS = [
    "quote_id",
    "respondent_type",
    "sex",
    "country",
    "speaker",
    "codes",
    "themes",
    "quote",
]
# A candidate also carries the fingerprint a reviewer's decision binds to, and the automatic
# check: '' when it passed, else the doubt only a person can settle (a script it cannot check).
TEXT_SHA256 = "text_sha256"
CHECK = "automatic_check"
CANDIDATE_COLUMNS = [*BANK_COLUMNS, TEXT_SHA256, CHECK]


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of a redacted quote's UTF-8 text: what a reviewer's decision binds to."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def speaker(row: Any, columns: tuple[str, ...] = ("respondent_type", "sex", "country")) -> str:
    """The speaker as a brief prints it: the shown label values of ``columns``, comma-separated
    (a value hidden by disclosure control is missing and left out)."""
    values = [_get(row, c) for c in columns]
    return ", ".join(str(v) for v in values if v is not None and not pd.isna(v) and str(v))


def brief_speaker(row: Any) -> str:
    """The speaker as a brief prints it ("survivor, Thailand"): respondent type in lower case
    and country, each only where the quote bank shows it; "an interviewee" when neither is."""
    kind = speaker(row, ("respondent_type",)).lower()
    return speaker({"kind": kind, "country": _get(row, "country")}, ("kind", "country")) or (
        "an interviewee"
    )


def _get(row: Any, column: str) -> Any:
    """A row's value of ``column`` (missing when the row has no such column)."""
    return row.get(column, pd.NA) if hasattr(row, "get") else row[column]


def _judged(
    group: list[dict[str, Any]], redactor: Redactor, vocabulary: frozenset[str], too_few: str
) -> tuple[str, str]:
    """(reason the rows of one quote cannot enter the bank or '', the redacted text)."""
    consents = [bool(r["_yes"]) for r in group]
    if not all(consents):
        return (MIXED_CONSENT if any(consents) else NO_CONSENT), ""
    if len({r["quote"] for r in group}) > 1:
        return MIXED_TEXT, ""
    if too_few:
        return too_few, ""
    redacted = redactor(str(group[0]["quote"]))
    return redactor.uncertainty(redacted, vocabulary), redacted


def candidate_quotes(
    long: pd.DataFrame, *, threshold: int, planted_patterns: Any = None, codes: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quotes a person may review, and the list of quotes left out.

    ``threshold``: the interview disclosure threshold (config ``disclosure.threshold_interviews``)
    below which a label attribute is not shown. ``planted_patterns``: identifiers known to be in
    the data (from :func:`analysis.clean.redaction.identifiers_in`, :func:`typed_identifiers_from`,
    or a ``{kind: [strings]}`` mapping). ``codes`` (optional) adds each quote's themes.

    A wave with fewer interviewees than ``threshold`` gives no quote at all (even an unlabelled
    quote would name a group that small).

    Returns ``candidates`` (the bank's columns plus ``text_sha256`` and ``automatic_check``: one
    row per consented quote that is confidently redacted, or whose only doubt is a script the
    redactor cannot check; sorted by quote_id; label attributes not shown are missing) and
    ``excluded`` (quote_id, reason: every other quote, without its text).
    """
    if codes is not None:
        long = to_long(long, codes)
        table = code_table(codes)
        theme_of = dict(zip(table["code"], table["theme"], strict=True))
    else:
        theme_of = {}
    if "quote" not in long.columns:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS), pd.DataFrame(columns=["quote_id", "reason"])
    labels = quote_labels(long, threshold=threshold)
    too_few = TOO_FEW.format(threshold=threshold) if len(labels) < threshold else ""
    text = long["quote"].astype("string").str.strip()
    rows = long.loc[text.notna() & (text != "")].copy()
    rows["quote"] = text[rows.index]
    redactor = Redactor(normalise_identifiers(planted_patterns))
    vocabulary = lowercase_vocabulary(rows["quote"])
    kept, excluded = [], []
    no_id = rows["quote_id"].isna() if "quote_id" in rows.columns else pd.Series(True, rows.index)
    if no_id.any():
        excluded.append({"quote_id": pd.NA, "reason": f"{NO_ID} ({int(no_id.sum())} rows)"})
    rows = rows.loc[~no_id]
    consent = rows.get("quote_consent", pd.Series(pd.NA, index=rows.index))
    rows["_yes"] = consent.astype("string").str.strip().str.lower().eq("yes").fillna(False)
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in rows.assign(quote_id=rows["quote_id"].astype(str)).to_dict("records"):
        groups.setdefault(rec["quote_id"], []).append(rec)
    for quote_id in sorted(groups):
        group = groups[quote_id]
        reason, redacted = _judged(group, redactor, vocabulary, too_few)
        if reason and not (redacted and held_for_review(reason)):
            excluded.append({"quote_id": quote_id, "reason": reason})
            continue
        label = labels.loc[str(group[0][ID])]
        used = sorted({str(r["code"]) for r in group if not pd.isna(r.get("code"))})
        kept.append(
            {
                "quote_id": quote_id,
                **{c: label.get(c, pd.NA) for c in LABEL_ATTRIBUTES},
                "speaker": speaker(label),
                "codes": "; ".join(used),
                "themes": "; ".join(sorted({theme_of[c] for c in used if c in theme_of})),
                "quote": redacted,
                TEXT_SHA256: text_sha256(redacted),
                CHECK: reason,
            }
        )
    candidates = pd.DataFrame(kept, columns=CANDIDATE_COLUMNS)
    excluded_df = pd.DataFrame(excluded, columns=["quote_id", "reason"])
    return candidates.reset_index(drop=True), excluded_df.reset_index(drop=True)


def build_quote_bank(
    long: pd.DataFrame, *, threshold: int, planted_patterns: Any = None, codes: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The quotes the automatic checks clear (before any person's review), and the rest.

    Arguments as :func:`candidate_quotes`. Returns ``bank`` (quote_id, respondent_type, sex,
    country, speaker, codes, themes, quote: consented, confidently redacted quotes, sorted by
    quote_id) and ``excluded`` (quote_id, reason: every other quote, a candidate held for a
    person's review with its doubt, without its text).
    """
    candidates, excluded = candidate_quotes(
        long, threshold=threshold, planted_patterns=planted_patterns, codes=codes
    )
    doubtful = candidates[CHECK] != ""
    held = candidates.loc[doubtful, ["quote_id", CHECK]].rename(columns={CHECK: "reason"})
    if not held.empty:
        excluded = pd.concat([excluded, held], ignore_index=True)
        excluded = excluded.sort_values("quote_id", na_position="first", kind="stable")
    bank = candidates.loc[~doubtful, BANK_COLUMNS]
    return bank.reset_index(drop=True), excluded.reset_index(drop=True)
