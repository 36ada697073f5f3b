"""ASEAN member states: ISO 3166 alpha-3 codes, the names UNODC and UNSD publish, and aliases."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# The ten member states named in the project brief, in alphabetical order of ISO code. Names are
# the UN M49 names that UNODC (GLOTIP) and UNSD publish. Timor-Leste is not in this list; pass
# ``countries=(*ASEAN_ISO3, "TLS")`` to the context functions to include it.
ASEAN_NAMES: dict[str, str] = {
    "BRN": "Brunei Darussalam",
    "IDN": "Indonesia",
    "KHM": "Cambodia",
    "LAO": "Lao People's Democratic Republic",
    "MMR": "Myanmar",
    "MYS": "Malaysia",
    "PHL": "Philippines",
    "SGP": "Singapore",
    "THA": "Thailand",
    "VNM": "Viet Nam",
}
ASEAN_ISO3: tuple[str, ...] = tuple(ASEAN_NAMES)

# Short names for tables and prose (the project's own usage: "Lao PDR", "Viet Nam").
SHORT_NAMES: dict[str, str] = {
    **ASEAN_NAMES,
    "BRN": "Brunei",
    "LAO": "Lao PDR",
    "TLS": "Timor-Leste",
}

_ALIASES: dict[str, str] = {
    "brunei": "BRN",
    "brunei darussalam": "BRN",
    "cambodia": "KHM",
    "kingdom of cambodia": "KHM",
    "indonesia": "IDN",
    "lao pdr": "LAO",
    "lao p.d.r.": "LAO",
    "lao people's democratic republic": "LAO",
    "laos": "LAO",
    "malaysia": "MYS",
    "myanmar": "MMR",
    "burma": "MMR",
    "philippines": "PHL",
    "the philippines": "PHL",
    "singapore": "SGP",
    "thailand": "THA",
    "viet nam": "VNM",
    "vietnam": "VNM",
    "timor-leste": "TLS",
    "east timor": "TLS",
}


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).replace("\u2019", "'").casefold()
    return re.sub(r"\s+", " ", text).strip()


def iso3_for(name: str) -> str | None:
    """ISO3 code of an ASEAN country (or Timor-Leste) from any common spelling, else None.

    Accepts ISO3 codes too: ``iso3_for("Lao PDR") == iso3_for("LAO") == "LAO"``.
    """
    key = _key(str(name))
    if key.upper() in SHORT_NAMES:
        return key.upper()
    return _ALIASES.get(key)


def resolve_countries(countries: Iterable[str] | None) -> tuple[str, ...]:
    """ISO3 codes for ``countries`` (names or codes; None = the ten ASEAN states), sorted.

    An unknown name raises ``ValueError`` listing the accepted spellings.
    """
    if countries is None:
        return ASEAN_ISO3
    codes = []
    for name in countries:
        code = iso3_for(name)
        if code is None:
            if re.fullmatch(r"[A-Za-z]{3}", str(name).strip()):
                code = str(name).strip().upper()  # any other ISO3 code is taken as given
            else:
                raise ValueError(
                    f"unknown country {name!r}; use an ISO3 code or one of: "
                    + ", ".join(sorted(_ALIASES))
                )
        codes.append(code)
    return tuple(sorted(set(codes)))


def short_name(iso3: str, fallback: str = "") -> str:
    """The short display name for an ISO3 code (``"LAO"`` -> ``"Lao PDR"``)."""
    return SHORT_NAMES.get(iso3, fallback or iso3)
