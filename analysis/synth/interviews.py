"""Synthetic qualitative interview coding export (Excel .xlsx, wave 2024): design and truths.

61 interviews in Cambodia, Myanmar and Thailand (``RESPONDENTS``): 37 survivors (33 women, 4 men),
8 family members, 10 front-line officers and 6 facilitators. One row per interview x code x coder,
as NVivo/Taguette long exports look (one sheet, header in row 1). ``THEMES`` holds 9 themes with
3-5 codes each (33 codes), with definitions.

Coder A coded every interview. ``N_DOUBLE_CODED`` interviews were also coded independently by
coder B: for each code, B reproduces A's decision (applied / not applied) with probability
``CODE_RELIABILITY[code]`` and otherwise decides at random with the code's prevalence, so the
expected Cohen's kappa of a code equals its reliability. TRUE RELIABILITY: codes of facts
(``expl_*``, ``ret_*``, ``serv_*``) 0.95, interpretive codes 0.75, and two DELIBERATELY UNRELIABLE
codes (``UNRELIABLE_CODES``): ``ctrl_debt_bondage`` (confused with ``push_poverty_debt``) and
``stig_self_blame`` (confused with the other stigma codes), 0.10.

Gendered pattern (true): men survivors are mostly coded ``expl_forced_labour_fishing`` or
``expl_forced_criminality_scam``; women survivors mostly ``expl_sexual_exploitation``,
``expl_domestic_servitude`` or ``expl_forced_marriage``.

Quotes: about 45% of coder A's rows carry a short excerpt with a ``quote_id``; coder B's rows carry
none. ``quote_consent`` (yes/no) is per interview. ``PLANTED_QUOTES`` are placed once each on rows
of interviews with consent "yes"; they contain identifying details listed in
``PLANTED_IDENTIFIERS`` (kind -> strings), which de-identification must remove.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd

from analysis.synth import fake
from analysis.synth.common import (
    FIXED_TIMESTAMP,
    SEEDS,
    FieldSpec,
    codebook,
    normalise_xlsx,
    write_json,
)

DATASET = "interviews"
WAVE = 2024
COUNTRY_CODES = {"Cambodia": 1, "Myanmar": 5, "Thailand": 7}

#: respondent type -> (number of interviews, number of women, age range)
RESPONDENTS: dict[str, tuple[int, int, tuple[int, int]]] = {
    "Survivor": (37, 33, (18, 45)),
    "Family member": (8, 6, (30, 65)),
    "Front-line officer": (10, 6, (25, 55)),
    "Facilitator": (6, 4, (28, 60)),
}
SURVIVOR_COUNTRIES = {"Cambodia": 14, "Myanmar": 11, "Thailand": 12}
N_DOUBLE_CODED = 15  # 10 survivors + 5 others
QUOTE_RATE = 0.45
CONSENT_RATE = 0.8

#: theme -> ((code, label, definition), ...)
THEMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Push factors": (
        (
            "push_poverty_debt",
            "Poverty or debt",
            "Household poverty or debt named as a reason for leaving home.",
        ),
        (
            "push_family_pressure",
            "Family pressure",
            "Family expected or pressed the person to migrate or earn.",
        ),
        (
            "push_domestic_violence",
            "Violence at home",
            "Violence or abuse at home named as a reason for leaving.",
        ),
        ("push_lack_of_jobs", "No local work", "No work or income available locally."),
    ),
    "Pull factors": (
        (
            "pull_job_offer_abroad",
            "Job offer elsewhere",
            "A specific job offer in another place or country.",
        ),
        ("pull_higher_wages", "Higher wages", "Expected higher pay elsewhere."),
        (
            "pull_peer_success_stories",
            "Peers' success stories",
            "Others who migrated were seen or said to do well.",
        ),
    ),
    "Recruitment channel": (
        ("recr_broker_agent", "Broker or agent", "Recruited through an informal broker or agent."),
        (
            "recr_family_friend",
            "Relative, friend or neighbour",
            "Recruited through a relative, friend or neighbour.",
        ),
        (
            "recr_social_media",
            "Social media or online",
            "Recruited through social media, chat apps or online ads.",
        ),
        (
            "recr_formal_agency",
            "Registered agency",
            "Recruited through a registered recruitment agency.",
        ),
    ),
    "Form of exploitation": (
        (
            "expl_sexual_exploitation",
            "Sexual exploitation",
            "Forced into commercial sex or sexual abuse for profit.",
        ),
        (
            "expl_forced_labour_fishing",
            "Forced labour in fishing",
            "Forced labour on fishing boats or in seafood processing.",
        ),
        (
            "expl_domestic_servitude",
            "Domestic servitude",
            "Forced domestic work in a private household.",
        ),
        (
            "expl_forced_criminality_scam",
            "Forced criminality (scams)",
            "Forced to run online scams or other crimes.",
        ),
        (
            "expl_forced_marriage",
            "Forced marriage",
            "Married without free consent, including sale as a bride.",
        ),
    ),
    "Means of control": (
        (
            "ctrl_debt_bondage",
            "Debt bondage",
            "An inflated debt to the exploiter used to keep the person working.",
        ),
        (
            "ctrl_document_confiscation",
            "Documents confiscated",
            "Identity or travel documents taken by the exploiter.",
        ),
        (
            "ctrl_violence_threats",
            "Violence or threats",
            "Violence or threats against the person or their family.",
        ),
        (
            "ctrl_confinement",
            "Confinement",
            "Locked in or not allowed to leave the workplace or compound.",
        ),
    ),
    "Return": (
        (
            "ret_rescued_by_authorities",
            "Rescued by authorities",
            "Left the situation through a police or agency operation.",
        ),
        ("ret_escaped", "Escaped", "Left the situation by their own escape."),
        (
            "ret_released_deported",
            "Released or deported",
            "Released by the exploiter or deported by authorities.",
        ),
    ),
    "Reintegration": (
        (
            "reint_livelihood_support",
            "Livelihood support",
            "Received or sought help to earn a living after return.",
        ),
        (
            "reint_family_reunification",
            "Family reunification",
            "Went back to live with family after return.",
        ),
        (
            "reint_re_trafficking_risk",
            "Risk of re-trafficking",
            "Talk of migrating again or renewed recruitment approaches.",
        ),
    ),
    "Services accessed": (
        ("serv_shelter", "Shelter", "Stayed in a shelter."),
        ("serv_health_care", "Health care", "Received medical or mental-health care."),
        ("serv_legal_aid", "Legal aid", "Received legal advice or help with a case."),
        ("serv_counselling", "Counselling", "Received counselling or psychosocial support."),
    ),
    "Stigma": (
        (
            "stig_family_rejection",
            "Rejection by family",
            "Rejected or blamed by family after return.",
        ),
        (
            "stig_community_gossip",
            "Community gossip",
            "Gossip, shaming or exclusion in the community.",
        ),
        ("stig_self_blame", "Self-blame", "The person blames themself for what happened."),
    ),
}
CODES: tuple[str, ...] = tuple(code for codes in THEMES.values() for code, _, _ in codes)
CODE_THEME: dict[str, str] = {code: t for t, codes in THEMES.items() for code, _, _ in codes}

UNRELIABLE_CODES: tuple[str, ...] = ("ctrl_debt_bondage", "stig_self_blame")
CODE_RELIABILITY: dict[str, float] = {
    code: 0.10
    if code in UNRELIABLE_CODES
    else 0.95
    if code.startswith(("expl_", "ret_", "serv_"))
    else 0.75
    for code in CODES
}

#: Probability that a theme comes up, by respondent type (theme order as in THEMES).
_THEME_RATE: dict[str, tuple[float, ...]] = {
    "Survivor": (0.8, 0.7, 0.85, 0.95, 0.8, 0.8, 0.7, 0.7, 0.6),
    "Family member": (0.6, 0.4, 0.5, 0.4, 0.3, 0.5, 0.8, 0.4, 0.7),
    "Front-line officer": (0.3, 0.3, 0.7, 0.6, 0.6, 0.6, 0.2, 0.6, 0.2),
    "Facilitator": (0.5, 0.4, 0.5, 0.5, 0.4, 0.4, 0.8, 0.9, 0.6),
}
_EXPLOITATION_WEIGHTS = {  # survivors by sex; others use "any"
    "Man": (0.1, 5.0, 0.2, 4.0, 0.1),
    "Woman": (4.0, 0.2, 3.0, 1.5, 2.0),
    "any": (2.0, 1.5, 1.0, 1.5, 0.7),
}

_QUOTES: dict[str, tuple[str, ...]] = {
    "push_poverty_debt": (
        "We owed money for the rice fields and there was nothing left.",
        "My parents borrowed to pay the hospital, so I had to go.",
    ),
    "push_family_pressure": ("My mother said the eldest daughter must help the family.",),
    "push_domestic_violence": ("At home my stepfather drank and hit us. I wanted to go anywhere.",),
    "push_lack_of_jobs": ("In the dry season there is no work in the village at all.",),
    "pull_job_offer_abroad": ("They said there was a job in a restaurant across the border.",),
    "pull_higher_wages": ("They promised three times what I earned at the market.",),
    "pull_peer_success_stories": ("Girls from our area came back with phones and new clothes.",),
    "recr_broker_agent": ("A broker came to the village and paid for the bus.",),
    "recr_family_friend": ("A neighbour I trusted introduced me to the boss.",),
    "recr_social_media": ("I saw the job on Facebook and we talked on the app.",),
    "recr_formal_agency": ("We signed papers at an agency office in town.",),
    "expl_sexual_exploitation": (
        "When we arrived it was not a restaurant. They made us go with men.",
    ),
    "expl_forced_labour_fishing": ("On the boat we worked twenty hours and never came to shore.",),
    "expl_domestic_servitude": ("I cleaned and cooked from early morning and was never paid.",),
    "expl_forced_criminality_scam": ("They gave us scripts and phones to cheat people online.",),
    "expl_forced_marriage": ("They said I was married now and could not go home.",),
    "ctrl_debt_bondage": ("Every month the boss said my debt was bigger.",),
    "ctrl_document_confiscation": ("They kept our passports in the office.",),
    "ctrl_violence_threats": ("They said they would hurt my family if I ran.",),
    "ctrl_confinement": ("The gate was always locked and there were guards.",),
    "ret_rescued_by_authorities": ("The police came one night and took us out.",),
    "ret_escaped": ("I climbed out of the window when the guard slept.",),
    "ret_released_deported": ("After two years they sent us back at the checkpoint.",),
    "reint_livelihood_support": ("The project gave me a sewing machine to start work.",),
    "reint_family_reunification": ("Now I live with my parents again.",),
    "reint_re_trafficking_risk": ("Someone already asked me to go again for another job.",),
    "serv_shelter": ("At the shelter I could sleep without fear.",),
    "serv_health_care": ("The clinic treated me and nobody asked questions.",),
    "serv_legal_aid": ("A lawyer explained the case to me.",),
    "serv_counselling": ("Talking with the counsellor helped me sleep.",),
    "stig_family_rejection": ("My brother said I shamed the family.",),
    "stig_community_gossip": ("People in the market whisper when I pass.",),
    "stig_self_blame": ("I think it was my fault for believing them.",),
}

#: (code, quote, identifying details in the quote as (kind, text)) placed once each.
PLANTED_QUOTES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "recr_broker_agent",
        "The broker, a man called Chanthy Vong, told us the boat work paid well.",
        (("name", "Chanthy Vong"),),
    ),
    (
        "recr_family_friend",
        "My aunt Daw Khin Myo from Kyauk Ta Lone village arranged everything.",
        (("name", "Daw Khin Myo"), ("village", "Kyauk Ta Lone")),
    ),
    (
        "push_poverty_debt",
        "I was 15 years old when we could not pay the moneylender any more.",
        (("age", "15 years old"),),
    ),
    (
        "recr_social_media",
        "He gave me his number, 012 845 317, and said call when ready.",
        (("phone", "012 845 317"),),
    ),
    (
        "expl_forced_labour_fishing",
        "We worked for Sea Star Fishing Co. on a boat out of Samut Sakhon.",
        (("employer", "Sea Star Fishing Co."),),
    ),
    (
        "expl_forced_criminality_scam",
        "The compound belonged to Golden Horizon Group and they took our phones.",
        (("employer", "Golden Horizon Group"),),
    ),
    (
        "reint_family_reunification",
        "Now I live again with my mother in Phum Chrey village, near the pagoda.",
        (("village", "Phum Chrey"),),
    ),
    (
        "serv_shelter",
        "At the shelter Ms. Sopheap Lim helped me every day.",
        (("name", "Sopheap Lim"),),
    ),
    (
        "stig_community_gossip",
        "In Ban Nong Bua they still talk about me; I came back when I was 19.",
        (("village", "Ban Nong Bua"), ("age", "when I was 19")),
    ),
    (
        "ctrl_document_confiscation",
        "The boss, his phone is +66 81 234 5678, still has my passport.",
        (("phone", "+66 81 234 5678"),),
    ),
)

#: Identifying details planted in quotes, by kind (name, village, age, phone, employer).
PLANTED_IDENTIFIERS: dict[str, tuple[str, ...]] = {
    kind: tuple(text for _, _, details in PLANTED_QUOTES for k, text in details if k == kind)
    for kind in ("name", "village", "age", "phone", "employer")
}

_CODE_DEFINITIONS = {code: d for codes in THEMES.values() for code, _, d in codes}
_CODE_LABELS = {code: lab for codes in THEMES.values() for code, lab, _ in codes}

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "interview_id",
        "string",
        "Interview ID",
        "INT-<3 digits>.",
        identifier="indirect",
        role="id",
    ),
    FieldSpec(
        "respondent_type",
        "string",
        "Type of respondent",
        categories=tuple((t, t) for t in RESPONDENTS),
    ),
    FieldSpec(
        "sex", "string", "Sex of respondent", categories=(("Woman", "Woman"), ("Man", "Man"))
    ),
    FieldSpec(
        "age",
        "integer",
        "Age in years (exact)",
        "Exact age: a quasi-identifier, to be banded in cleaning.",
        minimum=18,
        maximum=70,
    ),
    FieldSpec("country", "string", "Country", categories=tuple((c, c) for c in COUNTRY_CODES)),
    FieldSpec(
        "respondent_name", "string", "Respondent name", "Direct identifier.", identifier="direct"
    ),
    FieldSpec(
        "village",
        "string",
        "Village of respondent",
        "Direct identifier; empty for officers and facilitators.",
        required=False,
        identifier="direct",
    ),
    FieldSpec(
        "coder",
        "string",
        "Coder",
        "A coded every interview; B only the double-coded subset, independently.",
        categories=(("A", "Coder A"), ("B", "Coder B")),
    ),
    FieldSpec(
        "code",
        "string",
        "Code applied",
        "Code name; its theme and definition are in the categories.",
        categories=tuple((c, _CODE_LABELS[c]) for c in CODES),
        sensitive=True,
        category_extra={
            c: {"x-theme": CODE_THEME[c], "x-definition": _CODE_DEFINITIONS[c]} for c in CODES
        },
    ),
    FieldSpec(
        "quote",
        "string",
        "Quote (short excerpt)",
        "Translated excerpt coded with this code; may be empty. May contain identifying details "
        "(names, villages, exact ages, phone numbers, employers): cleaning keeps it only where "
        "quote_consent is yes, with identifying details replaced, and drops it otherwise.",
        required=False,
        sensitive=True,
        consent="quote_consent",
    ),
    FieldSpec(
        "quote_consent",
        "string",
        "Respondent consented to being quoted",
        categories=(("yes", "Yes"), ("no", "No")),
    ),
    FieldSpec(
        "quote_id",
        "string",
        "Quote ID",
        "Q-<4 digits> where a quote is present.",
        required=False,
        unique=True,
    ),
)


def build_codebook() -> dict[str, Any]:
    """The interviews codebook (Table Schema) from ``FIELDS``."""
    return codebook(
        DATASET,
        "Interviews on gendered trafficking dynamics: coding export",
        "Long export of qualitative coding, one row per interview x code x coder; 37 survivors "
        "(33 women, 4 men) plus family members, front-line officers and facilitators in Cambodia, "
        f"Myanmar and Thailand; {N_DOUBLE_CODED} interviews double-coded by coders A and B.",
        ["interview_id", "coder", "code"],
        FIELDS,
    )


def _respondents(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for rtype, (n, n_women, (lo, hi)) in RESPONDENTS.items():
        women = np.zeros(n, dtype=bool)
        women[rng.choice(n, size=n_women, replace=False)] = True
        if rtype == "Survivor":
            countries = np.repeat(list(SURVIVOR_COUNTRIES), list(SURVIVOR_COUNTRIES.values()))
            countries = rng.permutation(countries)
        else:
            countries = rng.choice(list(COUNTRY_CODES), size=n)
        for w, c in zip(women, countries, strict=True):
            rows.append((rtype, "Woman" if w else "Man", int(rng.integers(lo, hi + 1)), str(c)))
    df = pd.DataFrame(rows, columns=["respondent_type", "sex", "age", "country"])
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    df.insert(0, "interview_id", [f"INT-{i:03d}" for i in range(1, len(df) + 1)])
    codes = df["country"].map(COUNTRY_CODES).to_numpy()
    df["respondent_name"] = fake.names(rng, codes, (df["sex"] == "Woman").to_numpy())
    village = fake.villages(rng, codes)
    lay = df["respondent_type"].isin(["Survivor", "Family member"])
    df["village"] = [v if keep else "" for v, keep in zip(village, lay, strict=True)]
    df["quote_consent"] = np.where(rng.random(len(df)) < CONSENT_RATE, "yes", "no")
    return df


def _coder_a(rng: np.random.Generator, person: pd.Series) -> list[str]:
    """Codes coder A applies to one interview (at least three)."""
    rates = _THEME_RATE[person["respondent_type"]]
    themes = list(THEMES)
    present = [t for t, r in zip(themes, rates, strict=True) if rng.random() < r]
    for t in rng.permutation(themes):
        if len(present) >= 3:
            break
        if t not in present:
            present.append(str(t))
    applied: list[str] = []
    for theme in present:
        codes = [c for c, _, _ in THEMES[theme]]
        weights = np.ones(len(codes))
        if theme == "Form of exploitation":
            key = person["sex"] if person["respondent_type"] == "Survivor" else "any"
            weights = np.array(_EXPLOITATION_WEIGHTS[key])
        k = 1 + int(rng.random() < 0.3)
        applied += [
            str(c) for c in rng.choice(codes, size=k, replace=False, p=weights / weights.sum())
        ]
    return applied


def generate_data() -> pd.DataFrame:
    """The coding export as written to the .xlsx (empty cells as empty strings)."""
    rng = np.random.default_rng(SEEDS[f"{DATASET}_{WAVE}"])
    people = _respondents(rng)
    coded_a = {row.interview_id: set(_coder_a(rng, row)) for _, row in people.iterrows()}
    prevalence = {c: np.mean([c in s for s in coded_a.values()]) for c in CODES}

    survivors = people.index[people["respondent_type"] == "Survivor"]
    others = people.index[people["respondent_type"] != "Survivor"]
    double = sorted(
        people.loc[
            np.concatenate(
                [rng.choice(survivors, 10, replace=False), rng.choice(others, 5, replace=False)]
            ),
            "interview_id",
        ]
    )
    coded_b = {}
    for iid in double:
        applied = set()
        for c in CODES:
            a = c in coded_a[iid]
            b = a if rng.random() < CODE_RELIABILITY[c] else rng.random() < prevalence[c]
            if b:
                applied.add(c)
        coded_b[iid] = applied

    rows = []
    for _, person in people.iterrows():
        for coder, coded in (("A", coded_a), ("B", coded_b)):
            for c in CODES:
                if c in coded.get(person["interview_id"], set()):
                    quote = ""
                    if coder == "A" and rng.random() < QUOTE_RATE:
                        quote = str(rng.choice(_QUOTES[c]))
                    rows.append({**person.to_dict(), "coder": coder, "code": c, "quote": quote})
    df = pd.DataFrame(rows)
    _plant(rng, df)
    has_quote = df["quote"] != ""
    df["quote_id"] = ""
    df.loc[has_quote, "quote_id"] = [f"Q-{i:04d}" for i in range(1, int(has_quote.sum()) + 1)]
    return df[[f.name for f in FIELDS]].reset_index(drop=True)


def _plant(rng: np.random.Generator, df: pd.DataFrame) -> None:
    """Put each planted quote on one coder-A row with its code, preferring consent 'yes'."""
    used: set[int] = set()
    for code, quote, _ in PLANTED_QUOTES:
        rows = df.index[(df["coder"] == "A") & (df["code"] == code) & ~df.index.isin(used)]
        consenting = rows[df.loc[rows, "quote_consent"] == "yes"]
        pool = consenting if len(consenting) else rows
        if not len(pool):
            raise AssertionError(f"no coder-A row with code {code} to plant a quote on")
        i = int(rng.choice(pool))
        df.loc[i, "quote"] = quote
        used.add(i)


def write(df: pd.DataFrame, path: Path) -> Path:
    """Write the export as one sheet (header in row 1), byte-identical across runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Coding export"
    ws.append(list(df.columns))
    for record in df.itertuples(index=False):
        ws.append(
            [None if v == "" else (int(v) if isinstance(v, np.integer) else v) for v in record]
        )
    wb.properties.creator = "analysis.synth (SYNTHETIC DATA)"
    wb.properties.title = f"SYNTHETIC interview coding export {WAVE}"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    wb.save(path)
    normalise_xlsx(path)
    return path


def generate(out: Path) -> list[Path]:
    """Write the wave and the codebook under ``out/interviews``; return the paths."""
    folder = out / DATASET
    return [
        write(generate_data(), folder / f"{WAVE}.xlsx"),
        write_json(build_codebook(), folder / "codebook.json"),
    ]
