"""Official statistics shown as context in the regional brief (not shipped; configured paths).

- ``unodc``: the UNODC GLOTIP data export (detected victims by sex, age, form of exploitation),
  with "<5" cells kept as censored ranges 0-4.
- ``unsd``: the UN Statistics Division indicator IV.4, share of female police officers.
- ``asean``: ASEAN member codes, the names UNODC and UNSD publish, and common aliases.
"""

from __future__ import annotations

from analysis.context.asean import ASEAN_ISO3, ASEAN_NAMES, iso3_for, resolve_countries, short_name
from analysis.context.unodc import (
    age_shares,
    asean_victims,
    exploitation_shares,
    parse_count,
    read_glotip,
    regional_totals,
    sex_shares,
    sum_ranges,
)
from analysis.context.unsd import (
    FemalePoliceContext,
    asean_female_police,
    asean_female_police_latest,
    asean_female_police_series,
    read_female_police,
)

__all__ = [
    "ASEAN_ISO3",
    "ASEAN_NAMES",
    "FemalePoliceContext",
    "age_shares",
    "asean_female_police",
    "asean_female_police_latest",
    "asean_female_police_series",
    "asean_victims",
    "exploitation_shares",
    "iso3_for",
    "parse_count",
    "read_female_police",
    "read_glotip",
    "regional_totals",
    "resolve_countries",
    "sex_shares",
    "short_name",
    "sum_ranges",
]
