"""Synthetic ASEAN officer survey (SPSS .sav, waves 2023 and 2025): design and true effects.

Design (both waves): a fixed population of stations in 24 strata (8 countries x 3 agencies,
``stratum = country*10 + agency``). In each wave, ``STATIONS_PER_COUNTRY`` stations (the PSUs)
per country, split across its agencies in proportion to their officers (at least
``MIN_STATIONS_PER_STRATUM``), are drawn by simple random sampling without replacement within each
stratum, then 12-19 officers by simple random sampling within each station (officers listed by
sex, so the number of women sampled is m x p(woman) rounded at random). ``weight`` is the inverse
inclusion probability ``(N_h / n_h) * (M_hi / m_hi)``; ``stations_in_stratum`` is N_h (for the fpc).

TRUE EFFECTS (population model, the same in both waves unless said; women = ``sex == 2``):

* Share of women by country (population, i.e. weighted): ``WOMEN_SHARE``.
* Training coverage ``training_gender``: ``TRUE_TRAINING_COVERAGE`` (30% in 2023, 50% in 2025:
  the true change is +20 points). Station-level coverage varies (Beta, mean as given); training
  does not depend on sex or anything else.
* Harassment in the last 12 months: 25% of women, 8% of men (``TRUE_HARASSMENT``), nothing else.
* ``intend_stay_5y``: logit P = log(baseline odds) + log(OR) . x with x = harassment,
  training_gender, women and ``TRUE_INTEND_STAY_OR`` = {harassment 0.5, training_gender 1.6,
  women 0.75}; no other variable affects it (so adding covariates does not bias the ORs).
* ``attitude_index`` (mean of the four Likert items): E = 2.6 + 0.4 women + 0.3 training_gender
  + 0.0 years_service (``TRUE_ATTITUDE``; the years_service effect is a deliberate NULL). Items are
  the latent score plus item noise, stochastically rounded (so unbiased), clipped to 1-5 (rare).
* ``cases_trafficking_12m``: Poisson-gamma counts with mean 1.5 x 1.8^border_posting
  (``TRUE_CASES_TRAFFICKING``); multiplicative frailties have mean 1, so the marginal rate ratio
  for border posting is 1.8 and nothing else changes the mean.
* ``cases_gbv_12m``: mean 2.0 x 1.6^women x 2.5^(primary_role == 5) (``TRUE_CASES_GBV``).

User-missing codes 98/99 are sprinkled completely at random at 1-4% (``MISSING_RATES``), so
complete-case analyses stay unbiased.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from analysis.synth import fake
from analysis.synth.common import (
    DONT_KNOW,
    REFUSED,
    SEEDS,
    FieldSpec,
    codebook,
    fix_sav_timestamp,
    variable_labels,
    write_json,
)

DATASET = "officer_survey"
WAVES: tuple[int, ...] = (2023, 2025)

#: Population share of women officers by country code (anchors: Indonesia 6%, Lao PDR 20%,
#: Malaysia 12%, Philippines 22%; the others are assumptions between 6% and 20%).
WOMEN_SHARE: dict[int, float] = {
    1: 0.09,
    2: 0.06,
    3: 0.20,
    4: 0.12,
    5: 0.08,
    6: 0.22,
    7: 0.10,
    8: 0.11,
}
#: Published anchors among WOMEN_SHARE (the rest are assumptions).
WOMEN_SHARE_ANCHORED: tuple[int, ...] = (2, 3, 4, 6)

TRUE_TRAINING_COVERAGE: dict[int, float] = {2023: 0.30, 2025: 0.50}
TRUE_HARASSMENT: dict[str, float] = {"women": 0.25, "men": 0.08}
TRUE_INTEND_STAY_BASELINE_ODDS = 3.0  # odds of staying for an untrained, unharassed man
TRUE_INTEND_STAY_OR: dict[str, float] = {"harassment": 0.5, "training_gender": 1.6, "women": 0.75}
TRUE_ATTITUDE: dict[str, float] = {
    "intercept": 2.6,
    "women": 0.4,
    "training_gender": 0.3,
    "years_service": 0.0,
}
TRUE_CASES_TRAFFICKING: dict[str, float] = {"baseline_mean": 1.5, "border_posting": 1.8}
TRUE_CASES_GBV: dict[str, float] = {"baseline_mean": 2.0, "women": 1.6, "victim_support_role": 2.5}

#: Everything above in one mapping, for tests and docs.
TRUE_EFFECTS: dict[str, Any] = {
    "women_share": WOMEN_SHARE,
    "training_coverage": TRUE_TRAINING_COVERAGE,
    "harassment_prevalence": TRUE_HARASSMENT,
    "intend_stay_5y_odds_ratio": TRUE_INTEND_STAY_OR,
    "attitude_index_coefficient": TRUE_ATTITUDE,
    "cases_trafficking_12m_rate_ratio": {"border_posting": 1.8},
    "cases_gbv_12m_rate_ratio": {"women": 1.6, "primary_role==5": 2.5},
    "null_effects": ["attitude_index ~ years_service"],
}

STATIONS_PER_COUNTRY = 24  # allocated to agencies in proportion to their officers
MIN_STATIONS_PER_STRATUM = 4
OFFICERS_PER_STATION = (12, 19)  # inclusive range of officers sampled in a station

#: User-missing codes and their rates, per variable (applied completely at random).
MISSING_RATES: dict[str, dict[int, float]] = {
    "sex": {99: 0.01},
    "age": {99: 0.015},
    "rank": {99: 0.01},
    "years_service": {98: 0.015, 99: 0.01},
    "training_gender": {98: 0.02},
    "att_women_frontline": {98: 0.015, 99: 0.01},
    "att_victim_choice": {98: 0.02, 99: 0.01},
    "att_male_victims": {98: 0.02, 99: 0.01},
    "att_report_harassment": {98: 0.015, 99: 0.02},
    "harassment": {99: 0.03},
    "cases_trafficking_12m": {98: 0.03, 99: 0.01},
    "cases_gbv_12m": {98: 0.03, 99: 0.01},
    "gs_procedure": {98: 0.02},
    "intend_stay_5y": {98: 0.03},
}

AGENCIES = {1: "Police", 2: "Immigration", 3: "Border/customs"}
ROLES = {
    1: "General duties",
    2: "Investigation",
    3: "Immigration control",
    4: "Border/customs control",
    5: "Victim support/community",
    6: "Administration",
}
LIKERT = (
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither agree nor disagree"),
    (4, "Agree"),
    (5, "Strongly agree"),
)
LIKERT_ITEMS: dict[str, str] = {
    "att_women_frontline": "Women officers are as effective as men in front-line work",
    "att_victim_choice": (
        "Victims should be able to choose the sex of the officer who interviews them"
    ),
    "att_male_victims": "Men and boys can be victims of trafficking",
    "att_report_harassment": (
        "I could report sexual harassment at work without negative consequences"
    ),
}
_ITEM_OFFSET = {  # item means around the latent score; they sum to zero
    "att_women_frontline": 0.1,
    "att_victim_choice": 0.2,
    "att_male_victims": -0.1,
    "att_report_harassment": -0.2,
}

# Population of stations: number of police stations by country, agency multipliers.
_POLICE_STATIONS = {1: 150, 2: 400, 3: 100, 4: 220, 5: 180, 6: 350, 7: 300, 8: 320}
_AGENCY_STATION_FACTOR = {1: 1.0, 2: 0.4, 3: 0.35}
_AGENCY_STATION_SIZE = {1: 60.0, 2: 40.0, 3: 30.0}  # mean officers per station
_AGENCY_WOMEN_LOGIT = {1: 0.0, 2: 0.5, 3: -0.5}  # agency shifts of the women share
_AGENCY_BORDER = {1: 0.15, 2: 0.45, 3: 0.75}  # share of stations posted at a border
_ROLE_PROBS = {  # by agency, for men; women get more victim support and administration
    1: (0.45, 0.25, 0.02, 0.05, 0.13, 0.10),
    2: (0.10, 0.10, 0.55, 0.10, 0.05, 0.10),
    3: (0.10, 0.10, 0.10, 0.55, 0.05, 0.10),
}

_COMMENTS = (
    "Needs more training on interviewing victims.",
    "Station has no woman officer on the night shift.",
    "Colleague {name} from {village} village handled a trafficking case last month.",
    "Asked to be contacted again about the transfer policy.",
    "Respondent mentioned a broker working near {village}.",
    "Interview interrupted; respondent called away.",
    "{name} said the shelter near {village} is full.",
    "Respondent asked whether answers are shared with the commander.",
    "Wants a women's desk at the station; spoke about {name}.",
)
_COMMENT_RATE = 0.12


def _stratum_labels() -> tuple[tuple[int, str], ...]:
    return tuple(
        (c * 10 + a, f"{fake.COUNTRIES[c]} - {AGENCIES[a]}")
        for c in fake.COUNTRIES
        for a in AGENCIES
    )


def _coded(name: str, title: str, cats: Any, missing: tuple = (), **kw: Any) -> FieldSpec:
    return FieldSpec(name, "integer", title, categories=tuple(cats), missing=missing, **kw)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "respondent_id",
        "string",
        "Respondent ID",
        "OS<wave>-<5 digits>; primary key.",
        unique=True,
        identifier="indirect",
        role="id",
    ),
    FieldSpec("name", "string", "Respondent name", "Direct identifier.", identifier="direct"),
    FieldSpec(
        "phone",
        "string",
        "Respondent phone number",
        "Direct identifier; empty when not given.",
        required=False,
        identifier="direct",
    ),
    FieldSpec(
        "comment",
        "string",
        "Interviewer comment",
        "Free text, mostly empty; may name people and villages. Direct identifier.",
        required=False,
        identifier="direct",
    ),
    FieldSpec("wave", "integer", "Survey wave (year)", minimum=2000, maximum=2100),
    FieldSpec("interview_date", "date", "Date of interview (fieldwork date)"),
    _coded("country", "Country", fake.COUNTRIES.items()),
    _coded("agency", "Agency", AGENCIES.items()),
    _coded(
        "stratum",
        "Sampling stratum (country x agency)",
        _stratum_labels(),
        description="country*10 + agency.",
        role="stratum",
    ),
    FieldSpec(
        "station_id",
        "integer",
        "Station (primary sampling unit)",
        "Unique across strata: stratum*1000 + station number.",
        minimum=1,
        role="psu",
    ),
    FieldSpec(
        "stations_in_stratum",
        "integer",
        "Number of stations in the stratum population",
        "For the finite population correction.",
        minimum=1,
        role="fpc",
    ),
    FieldSpec(
        "weight",
        "number",
        "Sampling weight",
        "Inverse inclusion probability: (stations_in_stratum / stations sampled) x "
        "(officers in station / officers sampled).",
        minimum=1,
        role="weight",
    ),
    _coded("sex", "Sex of respondent", ((1, "Man"), (2, "Woman")), (REFUSED,)),
    FieldSpec("age", "integer", "Age in years", minimum=18, maximum=65, missing=(REFUSED,)),
    _coded(
        "rank",
        "Rank",
        (
            (1, "Constable/junior"),
            (2, "Non-commissioned officer"),
            (3, "Inspector"),
            (4, "Senior officer"),
        ),
        (REFUSED,),
        measure="ordinal",
    ),
    FieldSpec(
        "years_service",
        "integer",
        "Years in the service",
        minimum=0,
        maximum=45,
        missing=(DONT_KNOW, REFUSED),
    ),
    _coded("border_posting", "Posted at a border station", ((0, "No"), (1, "Yes"))),
    _coded("primary_role", "Primary role", ROLES.items()),
    _coded(
        "training_gender",
        "Received gender-sensitive trafficking training",
        ((0, "No"), (1, "Yes")),
        (DONT_KNOW,),
    ),
    *(
        _coded(item, text, LIKERT, (DONT_KNOW, REFUSED), measure="ordinal")
        for item, text in LIKERT_ITEMS.items()
    ),
    _coded(
        "harassment",
        "Experienced sexual harassment at work, last 12 months",
        ((0, "No"), (1, "Yes")),
        (REFUSED,),
        sensitive=True,
    ),
    FieldSpec(
        "cases_trafficking_12m",
        "integer",
        "Trafficking cases handled, last 12 months",
        minimum=0,
        maximum=60,
        missing=(DONT_KNOW, REFUSED),
    ),
    FieldSpec(
        "cases_gbv_12m",
        "integer",
        "Gender-based-violence cases handled, last 12 months",
        minimum=0,
        maximum=60,
        missing=(DONT_KNOW, REFUSED),
    ),
    _coded(
        "gs_procedure",
        "Victim interviews followed a gender-sensitive procedure",
        ((0, "No"), (1, "Yes"), (2, "Did not interview victims")),
        (DONT_KNOW,),
    ),
    _coded(
        "intend_stay_5y",
        "Intends to stay in the service five more years",
        ((0, "No"), (1, "Yes")),
        (DONT_KNOW,),
    ),
)


def build_codebook() -> dict[str, Any]:
    """The officer survey codebook (Table Schema) from ``FIELDS``."""
    return codebook(
        DATASET,
        "ASEAN officer survey",
        "Stratified two-stage sample of law-enforcement officers (strata: country x agency; "
        "PSUs: stations), waves 2023 and 2025, about 3,000 officers a wave. User-missing codes: "
        "98 = don't know, 99 = refused.",
        ["respondent_id"],
        FIELDS,
    )


def _expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _calibrated_women_logit(totals: dict[int, float], share: float) -> dict[int, float]:
    """Agency logits whose population-weighted mean probability equals ``share`` (bisection)."""
    weight = sum(totals.values())

    def mean_share(alpha: float) -> float:
        return (
            sum(t * float(_expit(alpha + _AGENCY_WOMEN_LOGIT[a])) for a, t in totals.items())
            / weight
        )

    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_share(mid) < share else (lo, mid)
    alpha = (lo + hi) / 2
    return {a: alpha + _AGENCY_WOMEN_LOGIT[a] for a in totals}


def population(seed: int = SEEDS["officer_survey_population"]) -> pd.DataFrame:
    """The fixed population of stations: one row per station, with its size and p(woman)."""
    rng = np.random.default_rng(seed)
    frames = []
    for c in fake.COUNTRIES:
        for a in AGENCIES:
            n_stations = max(12, round(_POLICE_STATIONS[c] * _AGENCY_STATION_FACTOR[a]))
            mean_size = _AGENCY_STATION_SIZE[a]
            size = np.maximum(20, np.round(rng.lognormal(math.log(mean_size), 0.35, n_stations)))
            frames.append(
                pd.DataFrame(
                    {
                        "country": c,
                        "agency": a,
                        "stratum": c * 10 + a,
                        "station_id": (c * 10 + a) * 1000 + np.arange(1, n_stations + 1),
                        "station_size": size.astype(int),
                        "border": (rng.random(n_stations) < _AGENCY_BORDER[a]).astype(int),
                        "stations_in_stratum": n_stations,
                    }
                )
            )
    pop = pd.concat(frames, ignore_index=True)
    logits: dict[tuple[int, int], float] = {}
    for c in fake.COUNTRIES:
        totals = pop[pop["country"] == c].groupby("agency")["station_size"].sum()
        for a, lg in _calibrated_women_logit(totals.to_dict(), WOMEN_SHARE[c]).items():
            logits[(c, a)] = lg
    pop["p_woman"] = _expit(
        [logits[(c, a)] for c, a in zip(pop["country"], pop["agency"], strict=True)]
    )
    pop["stations_sampled"] = pop["stratum"].map(_allocation(pop))
    return pop


def _allocation(pop: pd.DataFrame) -> dict[int, int]:
    """Stations to sample per stratum: STATIONS_PER_COUNTRY split by agency officer totals."""
    out: dict[int, int] = {}
    for _, country in pop.groupby("country", sort=True):
        totals = country.groupby("stratum")["station_size"].sum()
        share = totals / totals.sum() * STATIONS_PER_COUNTRY
        n = np.maximum(MIN_STATIONS_PER_STRATUM, np.round(share)).astype(int)
        n[n.idxmax()] += STATIONS_PER_COUNTRY - n.sum()
        out.update({int(k): int(v) for k, v in n.items()})
    return out


def _sprinkle(rng: np.random.Generator, values: np.ndarray, rates: dict[int, float]) -> np.ndarray:
    """Replace values by user-missing codes completely at random at the given rates."""
    out = values.copy()
    u = rng.random(len(values))
    lower = 0.0
    for code, rate in rates.items():
        out[(u >= lower) & (u < lower + rate)] = code
        lower += rate
    return out


def _stochastic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Round up with probability equal to the fractional part (E[result] = x)."""
    floor = np.floor(x)
    return (floor + (rng.random(len(x)) < (x - floor))).astype(int)


def generate_wave(wave: int, pop: pd.DataFrame | None = None) -> pd.DataFrame:
    """One wave of the survey, as it is written to the .sav (codes, not labels)."""
    pop = population() if pop is None else pop
    rng = np.random.default_rng(SEEDS[f"{DATASET}_{wave}"])

    # Stage 1: stations by SRS within stratum; stage 2: officers by SRS within station.
    chosen = []
    for _, stratum in pop.groupby("stratum", sort=True):
        n_h = int(stratum["stations_sampled"].iloc[0])
        rows = rng.choice(len(stratum), size=n_h, replace=False)
        chosen.append(stratum.iloc[np.sort(rows)])
    st = pd.concat(chosen, ignore_index=True)
    lo, hi = OFFICERS_PER_STATION
    st["m"] = rng.integers(lo, hi + 1, size=len(st))
    st["weight"] = (st["stations_in_stratum"] / st["stations_sampled"]) * (
        st["station_size"] / st["m"]
    )
    # Officers are listed by sex within a station before the SRS (implicit stratification), so
    # the number of women sampled is m * p rounded at random: the share of women stays close to
    # the population share.
    st["n_women"] = _stochastic_round(rng, st["m"].to_numpy() * st["p_woman"].to_numpy())
    cover = TRUE_TRAINING_COVERAGE[wave]
    st["train_rate"] = rng.beta(cover * 6, (1 - cover) * 6, size=len(st))
    st["att_u"] = rng.normal(0, 0.15, size=len(st))
    st["case_u"] = rng.gamma(8.0, 1 / 8.0, size=len(st))
    st["day"] = rng.integers(0, 120, size=len(st))
    country_att = dict(
        zip(fake.COUNTRIES, rng.normal(0, 0.1, size=len(fake.COUNTRIES)), strict=True)
    )

    df = st.loc[st.index.repeat(st["m"])].reset_index(drop=True)
    n = len(df)
    women = np.concatenate(
        [rng.permutation(np.arange(m) < k) for m, k in zip(st["m"], st["n_women"], strict=True)]
    ).astype(int)

    age = np.clip(np.round(18 + rng.gamma(4.0, 4.2, n)), 18, 65).astype(int)
    entry_age = 18 + rng.integers(0, 10, n)
    years = np.clip(age - np.minimum(entry_age, age), 0, 45)
    latent_rank = years / 7 + rng.normal(0, 0.6, n) - 0.3 * women
    rank = 1 + (latent_rank > 1).astype(int) + (latent_rank > 2.5) + (latent_rank > 4)

    role = np.empty(n, dtype=int)
    for i, (a, w) in enumerate(zip(df["agency"].to_numpy(), women, strict=True)):
        p = np.array(_ROLE_PROBS[int(a)])
        if w:
            p = p * np.array([1, 1, 1, 1, 2.5, 1.5])
        role[i] = 1 + rng.choice(6, p=p / p.sum())

    training = (rng.random(n) < df["train_rate"].to_numpy()).astype(int)
    harassment = (
        rng.random(n) < np.where(women == 1, TRUE_HARASSMENT["women"], TRUE_HARASSMENT["men"])
    ).astype(int)
    ors = TRUE_INTEND_STAY_OR
    stay_logit = (
        math.log(TRUE_INTEND_STAY_BASELINE_ODDS)
        + math.log(ors["harassment"]) * harassment
        + math.log(ors["training_gender"]) * training
        + math.log(ors["women"]) * women
    )
    stay = (rng.random(n) < _expit(stay_logit)).astype(int)

    latent_att = (
        TRUE_ATTITUDE["intercept"]
        + TRUE_ATTITUDE["women"] * women
        + TRUE_ATTITUDE["training_gender"] * training
        + TRUE_ATTITUDE["years_service"] * years
        + df["att_u"].to_numpy()
        + df["country"].map(country_att).to_numpy()
        + rng.normal(0, 0.35, n)
    )
    items = {
        item: _stochastic_round(
            rng, np.clip(latent_att + offset + rng.normal(0, 0.45, n), 1.0, 5.0)
        )
        for item, offset in _ITEM_OFFSET.items()
    }

    border = df["border"].to_numpy()
    frailty = rng.gamma(2.0, 0.5, n) * df["case_u"].to_numpy()
    mu_tr = TRUE_CASES_TRAFFICKING["baseline_mean"] * np.where(border == 1, 1.8, 1.0)
    cases_tr = np.minimum(rng.poisson(mu_tr * frailty), 60)
    mu_gbv = (
        TRUE_CASES_GBV["baseline_mean"]
        * np.where(women == 1, TRUE_CASES_GBV["women"], 1.0)
        * np.where(role == 5, TRUE_CASES_GBV["victim_support_role"], 1.0)
    )
    cases_gbv = np.minimum(rng.poisson(mu_gbv * rng.gamma(2.0, 0.5, n)), 60)

    no_victims = rng.random(n) < np.where(role == 6, 0.9, 0.2)
    gs_yes = rng.random(n) < _expit(-0.3 + 1.2 * training)
    gs = np.where(no_victims, 2, gs_yes.astype(int))

    country = df["country"].to_numpy()
    start = dt.date(wave, 2, 1)
    dates = [
        start + dt.timedelta(days=int(d) + int(k))
        for d, k in zip(df["day"], rng.integers(0, 2, n), strict=True)
    ]
    name = fake.names(rng, country, women)
    phone = fake.phones(rng, country)
    phone = [p if rng.random() > 0.08 else "" for p in phone]
    comment = _comments(rng, country)

    out = pd.DataFrame(
        {
            "respondent_id": [f"OS{wave}-{i:05d}" for i in range(1, n + 1)],
            "name": name,
            "phone": phone,
            "comment": comment,
            "wave": wave,
            "interview_date": dates,
            "country": country,
            "agency": df["agency"].to_numpy(),
            "stratum": df["stratum"].to_numpy(),
            "station_id": df["station_id"].to_numpy(),
            "stations_in_stratum": df["stations_in_stratum"].to_numpy(),
            "weight": df["weight"].to_numpy(),
            "sex": 1 + women,
            "age": age,
            "rank": rank,
            "years_service": years,
            "border_posting": border,
            "primary_role": role,
            "training_gender": training,
            **items,
            "harassment": harassment,
            "cases_trafficking_12m": cases_tr,
            "cases_gbv_12m": cases_gbv,
            "gs_procedure": gs,
            "intend_stay_5y": stay,
        }
    )
    for col, rates in MISSING_RATES.items():
        out[col] = _sprinkle(rng, out[col].to_numpy(dtype=int), rates)
    return out[[f.name for f in FIELDS]]


def _comments(rng: np.random.Generator, country: np.ndarray) -> list[str]:
    out = []
    for c in country.tolist():
        if rng.random() >= _COMMENT_RATE:
            out.append("")
            continue
        template = str(rng.choice(_COMMENTS))
        arr = np.array([c])
        person = fake.names(rng, arr, np.array([rng.random() < 0.5]))[0]
        out.append(template.format(name=person, village=fake.villages(rng, arr)[0]))
    return out


def write_wave(df: pd.DataFrame, path: Path) -> Path:
    """Write a wave to SPSS .sav with labels, user-missing ranges and a fixed header time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    formats = {}
    for f in FIELDS:
        if f.type == "integer":
            formats[f.name] = "F8.0"
        elif f.type == "number":
            formats[f.name] = "F12.4"
    pyreadstat.write_sav(
        df,
        path,
        file_label=f"SYNTHETIC ASEAN officer survey {int(df['wave'].iloc[0])}",
        row_compress=True,
        column_labels=variable_labels(FIELDS),
        variable_value_labels={f.name: f.value_labels() for f in FIELDS if f.value_labels()},
        missing_ranges={f.name: [v for v, _ in f.missing] for f in FIELDS if f.missing},
        variable_measure={f.name: f.spss_measure() for f in FIELDS},
        variable_format=formats,
    )
    fix_sav_timestamp(path)
    return path


def generate(out: Path) -> list[Path]:
    """Write both waves and the codebook under ``out/officer_survey``; return the paths."""
    folder = out / DATASET
    pop = population()
    paths = [write_wave(generate_wave(w, pop), folder / f"{w}.sav") for w in WAVES]
    paths.append(write_json(build_codebook(), folder / "codebook.json"))
    return paths
