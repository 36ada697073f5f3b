"""De-identified quote bank from coded interviews.

Only quotes whose respondent consented ("yes") are kept. Identifying details are replaced by
bracketed placeholders: ``[name]``, ``[place]`` (below province level), ``[age]`` (exact ages),
``[phone]``, ``[email]`` and ``[employer]``. Redaction uses, in this order: regular expressions
(e-mail, phone, ages), identifiers taken from the data itself (the raw table's
``respondent_name`` and ``village``, passed along by the cleaning step as a transient list from
:func:`identifiers_from`, never written to disk), a small built-in gazetteer and first-name list
for the region, and patterns for titles, village prefixes and employers. A quote that still holds
a capitalised word not on the allow-list (common words, countries, provinces, institutions), or a
long number, is excluded as uncertain. The ``excluded`` table names every quote left out and why,
never its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from analysis.interviews import code_table, to_long

NAME, PLACE, AGE, PHONE, EMAIL, EMPLOYER = (
    "[name]",
    "[place]",
    "[age]",
    "[phone]",
    "[email]",
    "[employer]",
)
_KINDS = {
    "name": NAME,
    "names": NAME,
    "respondent_name": NAME,
    "person": NAME,
    "people": NAME,
    "place": PLACE,
    "places": PLACE,
    "village": PLACE,
    "villages": PLACE,
    "age": AGE,
    "ages": AGE,
    "phone": PHONE,
    "phones": PHONE,
    "email": EMAIL,
    "emails": EMAIL,
    "e-mail": EMAIL,
    "employer": EMPLOYER,
    "employers": EMPLOYER,
}
IDENTIFIER_COLUMNS = {"respondent_name": NAME, "village": PLACE}


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text."""
    return frozenset(text.split())


# Given names common in the region (Cambodia, Myanmar, Thailand, Lao PDR and neighbours).
FIRST_NAMES = _words(
    """
    Sokha Sophea Sopheap Srey Sreymom Sreyneang Sreypov Channary Chanthy Bopha Dara Vuthy Rithy
    Piseth Sovann Sokunthea Leakena Malis Kosal Vannak Chenda Sothea Phalla Sokhom Kunthea Vibol
    Bunthoeun Ratha Thida Kanha Nary Pisey Sophal Chantha Lina Mony Sokhim Samnang
    Aung Kyaw Zaw Htet Thura Myint Htun Naing Thein Soe Khin Thandar Nilar Hnin Ei Aye Moe Mya
    Su Thiri Nandar Phyu Sandar Zin Wai Yin Ohnmar Thuzar Cho Lwin Tin Ko Min
    Somchai Anan Kittisak Prasit Wichai Thanawat Surasak Siriporn Malee Nanthana Pornpimol Kanya
    Suda Wanida Ratana Somsak Somporn Sunee Pranee Nok Lek Noi Noy Ploy Fon Kwan Dao Jintana
    Bounmy Khamphet Vilay Souksavanh Phet Thongchanh Manivone Khamla Vanida Souphaphone
    Chanthaly Malaythong Keo Vong
    Siti Dewi Rina Ayu Putri Indah Wulan Fitri Budi Agus Dedi Eko Rizky Fajar Hendra Yusuf
    Nurul Aisyah Aminah Farah Priya Zarina Ahmad Faizal Hafiz Azlan Syafiq Ravi Kumar
    Maria Jocelyn Kristine Liza Rowena Angelica Marites Joy Grace Rose Jose Mark Paolo Ramon
    Jerome Carlo Rodel Arnel Lan Hoa Trang Mai Huong Linh Hung Tuan Nam Long
    """
)
# Honorifics and kin terms used before a given name.
_TITLES = (
    r"Mr|Mrs|Ms|Miss|Dr|Daw|U|Ko|Ma|Khun|Nang|Sai|Bong|Yeay|Ta|Ming|Pou|Aunty|Auntie|Uncle|"
    r"Sister|Brother|Pak|Bu|Ibu|Kak|Ate|Kuya|Nai|Nong|Pi|Phi|Ajarn|Sao|Tao"
)
# Words that open a village or hamlet name in the region.
_VILLAGE_PREFIXES = (
    r"Phum|Ban|Baan|Muban|Mu Ban|Moo|Kampong|Kampung|Barangay|Brgy\.?|Sitio|Thon|Xa|Desa|Dusun|"
    r"Ywar|Ywa|Kyauk|Nyaung|Kan|Thit|Prek|Trapeang|Svay|Kok"
)
# Places below province level often named in trafficking accounts (border towns, compounds).
GAZETTEER = (
    "Mae Sot",
    "Mae Sai",
    "Poipet",
    "Bavet",
    "Myawaddy",
    "Tachileik",
    "Shwe Kokko",
    "KK Park",
    "Mahachai",
    "Golden Triangle",
    "Boten",
    "Ton Pheung",
    "O'Smach",
    "Cham Yeam",
    "Kawthaung",
    "Aranyaprathet",
    "Khlong Yai",
    "Sadao",
    "Padang Besar",
)
_PLACE_WORDS = r"village|Village|commune|Commune|district|District|hamlet|Hamlet|sangkat|Sangkat"
_EMPLOYER_SUFFIXES = (
    r"Co\.?,?\s*Ltd\.?|Co\.|Company|Ltd\.?|Limited|Inc\.?|Corp\.?|Corporation|Group|Enterprises?|"
    r"Factory|Garments?|Textiles?|Fishing|Fisheries|Seafood|Trading|Industries|Industry|"
    r"Plantation|Karaoke|Massage|Restaurant|Hotel|Resort|Casino|Agency|Recruitment|Farm|Club|Bar"
)

# Province-level places, countries, nationalities and institutions that may stay in a quote.
ALLOWED_PLACES = (
    # Cambodia (provinces)
    "Banteay Meanchey, Battambang, Kampong Cham, Kampong Chhnang, Kampong Speu, Kampong Thom, "
    "Kampot, Kandal, Kep, Koh Kong, Kratie, Mondulkiri, Oddar Meanchey, Pailin, Phnom Penh, "
    "Preah Sihanouk, Sihanoukville, Preah Vihear, Prey Veng, Pursat, Ratanakiri, Siem Reap, "
    "Stung Treng, Svay Rieng, Takeo, Tbong Khmum, "
    # Myanmar (states and regions)
    "Kachin, Kayah, Kayin, Karen, Chin, Mon, Rakhine, Shan, Sagaing, Tanintharyi, Bago, Magway, "
    "Mandalay, Yangon, Rangoon, Ayeyarwady, Naypyidaw, Nay Pyi Taw, "
    # Thailand (provinces)
    "Bangkok, Chiang Mai, Chiang Rai, Tak, Ranong, Songkhla, Samut Sakhon, Samut Prakan, "
    "Samut Songkhram, Chonburi, Chon Buri, Pattaya, Rayong, Trat, Chanthaburi, Sa Kaeo, Surin, "
    "Sisaket, Ubon Ratchathani, Nong Khai, Udon Thani, Khon Kaen, Nakhon Ratchasima, Phuket, "
    "Phang Nga, Krabi, Surat Thani, Pattani, Yala, Narathiwat, Satun, Kanchanaburi, "
    "Mae Hong Son, Nakhon Si Thammarat, Chumphon, Prachuap Khiri Khan, Ayutthaya, Nonthaburi, "
    "Pathum Thani, Loei, Mukdahan, Nakhon Phanom, Buriram, Phitsanulok, Lampang, Lamphun, "
    "Phayao, Uttaradit, "
    # Lao PDR (provinces)
    "Vientiane, Luang Prabang, Champasak, Savannakhet, Bokeo, Luang Namtha, Oudomxay, Phongsaly, "
    "Houaphanh, Xiengkhouang, Xayaboury, Khammouane, Bolikhamxay, Salavan, Sekong, Attapeu, "
    # countries and large cities
    "Cambodia, Myanmar, Burma, Thailand, Laos, Lao PDR, Malaysia, Indonesia, Philippines, "
    "Viet Nam, Vietnam, China, Singapore, Japan, Korea, Taiwan, Brunei, Timor-Leste, India, "
    "Bangladesh, Saudi Arabia, Dubai, Hong Kong, Macau, Kuala Lumpur, Jakarta, Manila, Hanoi, "
    "Ho Chi Minh City, Asia, South-East Asia, Southeast Asia, Middle East"
)
ALLOWED_WORDS = _words(
    """
    I I'm I've I'd I'll OK Okay TV ID IDs SIM NGO NGOs UN IOM UNODC UNICEF UNHCR ILO ASEAN
    Khmer Cambodian Cambodians Thai Thais Burmese Myanmar Lao Laotian Malaysian Malaysians
    Indonesian Filipino Filipina Vietnamese Chinese Karen Shan Rohingya Mon English Asian
    Buddhist Buddhism Muslim Christian Islam God Buddha Covid COVID Covid-19 COVID-19
    Police Immigration Ministry Government Court Courts Embassy Consulate Labour Labor Social
    Welfare Department Office Anti-Trafficking Hotline Red Cross Crescent Province Provincial
    District Commune Village Border Station Centre Center Shelter Prosecutor Judge
    Facebook WhatsApp LINE Line Telegram Messenger TikTok WeChat Viber Signal Google
    January February March April June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Baht Riel Kyat Kip Dollars
    """
)
COMMON_WORDS = _words(
    """
    a about after again against all also always am an and another any are as at away back
    because been before being both but by can cannot could did do does doing done down during
    each even ever every everyone everything first for from had has have having he her here
    hers him his how however i if in inside instead into is it its just last later least less
    let like many maybe me more most much must my myself never next no nobody none nor not
    nothing now of off often on once one only or other others our ours out over perhaps please
    rather really same she should since so some someone something sometimes still such than
    thank thanks that the their them then there these they this those though through to today
    together too two three four five six seven eight nine ten twenty under until up upon us
    very was we were what whatever when whenever where whether which while who whoever whom
    whose why will with within without would yes yet you your yours yesterday tomorrow tonight
    afterwards eventually finally suddenly luckily unfortunately honestly actually already
    almost around because before behind besides between beyond here's there's it's that's
    don't didn't doesn't couldn't wouldn't shouldn't can't won't wasn't weren't isn't aren't
    i'm i've i'd i'll we're they're you're he's she's we've they've let's
    police officer officers policeman policewoman policewomen women woman men man boys girls
    girl boy children child mother father mum mom dad parents family husband wife son daughter
    sister brother aunt uncle grandmother grandfather neighbour neighbours neighbor friends
    friend people someone broker brokers agent agents boss employer recruiter recruiters
    traffickers trafficker victims victim survivors survivor staff social worker workers
    translator interpreter doctor nurse teacher village province district country border
    at the start end next later first second third then afterwards no yes sure well oh
    nobody everybody somebody anybody anyone anything nothing something everything
    life work job money debt papers passport documents fear shame help hope hopefully
    going go went come came get got give gave take took tell told say said ask asked know
    knew think thought want wanted need needed feel felt see saw look make made keep kept
    sometimes usually normally mostly only just still even already again also especially
    after before during while until since when where what why how who which whose
    one two three four five six seven eight nine ten several few some many most all both
    talking working living being going coming looking thinking waiting staying leaving having
    getting trying sleeping walking running crossing travelling traveling crying eating
    """
)
UNCERTAIN_WORD = (
    "possible name or place left after redaction (a capitalised word not on the allow-list)"
)
UNCERTAIN_NUMBER = "possible number identifier left after redaction (five or more digits)"
UNCERTAIN_AT = "possible e-mail or handle left after redaction ('@')"
NO_CONSENT = "no consent to quote (quote_consent is not 'yes')"
MIXED_CONSENT = "rows of this quote disagree on consent"
MIXED_TEXT = "rows of this quote carry different texts"
NO_ID = "quote without a quote_id"

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
)
_NUM = rf"(?:\d{{1,3}}|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?)"
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\w\[])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")
_AGE_RES = (
    re.compile(rf"\b(?:an?\s+)?{_NUM}[- ]years?[- ]old\b", re.IGNORECASE),
    re.compile(rf"\b(?:at\s+)?(?:the\s+)?age(?:d|\s+of)?\s+{_NUM}\b", re.IGNORECASE),
    re.compile(
        rf"\b((?:I|she|he|we|they|you)\s+(?:was|were|am|is|are|turned)\s+(?:only\s+|just\s+)?)"
        rf"{_NUM}\b(?=\s*(?:[,.;:!?)]|$|when|and|at|so|but|then|years? old))",
        re.IGNORECASE,
    ),
)
_AGE_KEEP_PREFIX = 2  # the last age pattern keeps its subject and verb: "I was [age]"
_CAPITALISED = re.compile(r"(?<![\w\[])[A-Z][\w'’-]*")
_PLACEHOLDER = re.compile(r"\[(?:name|place|age|phone|email|employer)\]")
_CAP = r"[A-Z][\w'’-]*"
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”(]|\s-)\s*[\"“'‘(]?\s*$")
_REPEATED = re.compile(r"(\[(?:name|place|employer)\])(?:\s+\1)+")
_LOWER_WORD = re.compile(r"(?<![\w\[])[a-z][a-z'’-]*")


def lowercase_vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Words that occur in lower case somewhere in ``texts`` (ordinary words, not names)."""
    return frozenset(w for t in texts for w in _LOWER_WORD.findall(str(t)) if len(w) > 1)


def identifiers_from(raw: pd.DataFrame) -> set[str]:
    """Names and villages in the raw table (before cleaning drops them): a transient list.

    Pass the result to :func:`build_quote_bank` (``planted_patterns``); never write it to disk.
    """
    return set(typed_identifiers_from(raw))


def typed_identifiers_from(raw: pd.DataFrame) -> dict[str, str]:
    """Like :func:`identifiers_from`, with each identifier's placeholder ([name] or [place])."""
    out: dict[str, str] = {}
    for column, placeholder in IDENTIFIER_COLUMNS.items():
        if column not in raw.columns:
            continue
        for value in raw[column].dropna().astype(str):
            value = " ".join(value.split())
            if value:
                out.setdefault(value, placeholder)
    return out


def _guess_placeholder(text: str) -> str:
    """Placeholder for an untyped identifier: e-mail, phone, place or (by default) name."""
    if "@" in text:
        return EMAIL
    if sum(ch.isdigit() for ch in text) >= 7:
        return PHONE
    if re.match(rf"(?:{_VILLAGE_PREFIXES})\s", text) or text in GAZETTEER:
        return PLACE
    if re.search(rf"(?:{_EMPLOYER_SUFFIXES})\.?$", text):
        return EMPLOYER
    return NAME


def _normalise_identifiers(planted: Any) -> dict[str, str]:
    """identifier -> placeholder from a set/list, a {identifier: placeholder/kind} or a
    {kind: [identifiers]} mapping."""
    if planted is None:
        return {}
    out: dict[str, str] = {}
    if isinstance(planted, Mapping):
        for key, value in planted.items():
            if isinstance(value, str):
                ident, kind = str(key), value
                placeholder = kind if kind.startswith("[") else _KINDS.get(kind.lower())
                out[ident] = placeholder or _guess_placeholder(ident)
            elif isinstance(value, Iterable):
                placeholder = _KINDS.get(str(key).lower())
                for ident in value:
                    ident = str(ident)
                    out[ident] = placeholder or _guess_placeholder(ident)
    else:
        for ident in planted:
            out[str(ident)] = _guess_placeholder(str(ident))
    return {" ".join(k.split()): v for k, v in out.items() if k and k.strip()}


_ALLOWED_PLACE_LIST = [p.strip() for p in ALLOWED_PLACES.split(",") if p.strip()]
_ALLOWED_TOKENS = frozenset(tok for p in _ALLOWED_PLACE_LIST for tok in p.split())
_NAME_PARTICLES = frozenset({"bin", "binti", "a/l", "a/p", "de", "dela", "del", "van", "thi"})


def _literal(text: str) -> str:
    """Regex for an identifier: escaped, any whitespace between words, whole words only."""
    parts = [re.escape(p) for p in text.split()]
    return r"(?<![\w])" + r"\s+".join(parts) + r"(?![\w])"


def _alternations(pairs: Iterable[tuple[str, str]], flags: int) -> list[tuple[re.Pattern, str]]:
    """One regex per placeholder matching any of its identifiers (longest first)."""
    by_placeholder: dict[str, list[str]] = {}
    for text, placeholder in pairs:
        by_placeholder.setdefault(placeholder, []).append(text)
    out = []
    for placeholder in sorted(by_placeholder):
        texts = sorted(set(by_placeholder[placeholder]), key=lambda t: (-len(t), t))
        out.append((re.compile("|".join(_literal(t) for t in texts), flags), placeholder))
    return out


class Redactor:
    """Replaces identifying details in one text; reusable across quotes."""

    def __init__(self, identifiers: Mapping[str, str] | None = None) -> None:
        identifiers = dict(identifiers or {})
        allowed = sorted(_ALLOWED_PLACE_LIST, key=len, reverse=True)
        self._allowed_re = re.compile("|".join(_literal(p) for p in allowed))
        full = sorted(identifiers.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        self._full = _alternations(((k, v) for k, v in full if len(k) > 1), re.IGNORECASE)
        tokens: dict[str, str] = {}
        for ident, placeholder in full:
            if placeholder not in (NAME, PLACE, EMPLOYER):
                continue
            for tok in ident.split():
                bare = tok.strip(".,")
                if (
                    len(bare) >= 2
                    and bare.lower() not in _NAME_PARTICLES
                    and bare.lower() not in COMMON_WORDS
                    and bare not in _ALLOWED_TOKENS
                    and bare not in ALLOWED_WORDS
                ):
                    tokens.setdefault(bare, placeholder)
        self._tokens = _alternations(tokens.items(), 0)
        gaz = sorted(GAZETTEER, key=len, reverse=True)
        self._gazetteer = re.compile("|".join(_literal(g) for g in gaz))
        self._first = re.compile(r"(?<![\w])(?:" + "|".join(sorted(FIRST_NAMES)) + r")(?![\w])")
        self._title = re.compile(rf"\b(?:{_TITLES})\.?\s+{_CAP}(?:\s+{_CAP}){{0,2}}")
        self._village = re.compile(rf"\b(?:{_VILLAGE_PREFIXES})\s+{_CAP}(?:\s+{_CAP}){{0,2}}")
        self._place_word = re.compile(rf"\b{_CAP}(?:\s+{_CAP}){{0,2}}(?=\s+(?:{_PLACE_WORDS})\b)")
        self._employer = re.compile(
            rf"\b(?:{_CAP}\s+){{0,3}}{_CAP}\s+(?:{_EMPLOYER_SUFFIXES})(?![\w])"
        )

    def _keep_allowed(self, placeholder: str):
        """Replacement that leaves allowed province-level places and common words alone."""

        def harmless(text: str) -> bool:
            words = text.split()
            while words and (words[-1] in ALLOWED_WORDS or words[-1].lower() in COMMON_WORDS):
                words.pop()
            return not words or bool(self._allowed_re.fullmatch(" ".join(words)))

        def replace(match: re.Match[str]) -> str:
            text = match.group(0)
            if harmless(text):
                return text
            first = text.split()[0]
            if first.lower() in COMMON_WORDS or first in ALLOWED_WORDS:
                rest = text[len(first) :]
                stripped = rest.lstrip()
                if harmless(stripped):
                    return text
                return first + rest[: len(rest) - len(stripped)] + placeholder
            return placeholder

        return replace

    def __call__(self, text: str) -> str:
        """The text with identifying details replaced by placeholders."""
        out = _EMAIL_RE.sub(EMAIL, text)
        out = _PHONE_RE.sub(_phone_or_keep, out)
        for i, pattern in enumerate(_AGE_RES):
            out = pattern.sub(rf"\1{AGE}" if i == _AGE_KEEP_PREFIX else AGE, out)
        for pattern, placeholder in self._full:
            out = pattern.sub(placeholder, out)
        out = self._employer.sub(self._keep_allowed(EMPLOYER), out)
        out = self._gazetteer.sub(PLACE, out)
        out = self._village.sub(self._keep_allowed(PLACE), out)
        out = self._place_word.sub(self._keep_allowed(PLACE), out)
        out = self._title.sub(NAME, out)
        for pattern, placeholder in self._tokens:
            out = pattern.sub(placeholder, out)
        out = self._first.sub(NAME, out)
        return _REPEATED.sub(r"\1", out)

    def uncertainty(self, text: str, vocabulary: frozenset[str] = frozenset()) -> str:
        """Why a redacted text may still identify someone ('' when it looks clean).

        ``vocabulary``: words seen in lower case in the quotes; a capitalised word opening a
        sentence is accepted when it is one of them (an ordinary word, not a name).
        """
        masked = _PLACEHOLDER.sub(" ", text)
        masked = self._allowed_re.sub(" ", masked)
        for match in _CAPITALISED.finditer(masked):
            bare = re.sub(r"(?:['’]s|['’])$", "", match.group(0))
            if bare in ALLOWED_WORDS or bare.lower() in COMMON_WORDS or bare in _ALLOWED_TOKENS:
                continue
            opens = _SENTENCE_START.search(masked[: match.start()]) is not None
            if opens and bare.lower() in vocabulary:
                continue
            return UNCERTAIN_WORD
        if re.search(r"\d(?:[\s.-]?\d){4,}", masked):
            return UNCERTAIN_NUMBER
        if "@" in masked:
            return UNCERTAIN_AT
        return ""


def _phone_or_keep(match: re.Match[str]) -> str:
    """Phone placeholder when the run holds at least seven digits (years and counts stay)."""
    text = match.group(0)
    return PHONE if sum(ch.isdigit() for ch in text) >= 7 else text


def redact(text: str, identifiers: Any = None) -> str:
    """One text with identifying details replaced (see the module docstring for the rules)."""
    return Redactor(_normalise_identifiers(identifiers))(text)


def build_quote_bank(
    long: pd.DataFrame, *, planted_patterns: Any = None, codes: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """De-identified quote bank and the list of quotes left out.

    ``planted_patterns``: identifiers known to be in the data (from :func:`identifiers_from` or
    :func:`typed_identifiers_from`, or a ``{kind: [strings]}`` mapping); matched literally, case
    insensitive. ``codes`` (optional) adds each quote's themes.

    Returns ``bank`` (quote_id, respondent_type, sex, country, codes, themes, quote: one row per
    consented, confidently redacted quote, sorted by quote_id) and ``excluded`` (quote_id, reason:
    every other quote, without its text).
    """
    if codes is not None:
        long = to_long(long, codes)
        table = code_table(codes)
        theme_of = dict(zip(table["code"], table["theme"], strict=True))
    else:
        theme_of = {}
    if "quote" not in long.columns:
        return _empty_bank(), pd.DataFrame(columns=["quote_id", "reason"])
    text = long["quote"].astype("string").str.strip()
    rows = long.loc[text.notna() & (text != "")].copy()
    rows["quote"] = text[rows.index]
    redactor = Redactor(_normalise_identifiers(planted_patterns))
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
        consents = [bool(r["_yes"]) for r in group]
        reason = ""
        if not all(consents):
            reason = MIXED_CONSENT if any(consents) else NO_CONSENT
        elif len({r["quote"] for r in group}) > 1:
            reason = MIXED_TEXT
        redacted = "" if reason else redactor(str(group[0]["quote"]))
        reason = reason or redactor.uncertainty(redacted, vocabulary)
        if reason:
            excluded.append({"quote_id": quote_id, "reason": reason})
            continue
        used = sorted({str(r["code"]) for r in group if not pd.isna(r.get("code"))})
        kept.append(
            {
                "quote_id": quote_id,
                **{c: group[0].get(c, pd.NA) for c in ("respondent_type", "sex", "country")},
                "codes": "; ".join(used),
                "themes": "; ".join(sorted({theme_of[c] for c in used if c in theme_of})),
                "quote": redacted,
            }
        )
    bank = pd.DataFrame(kept, columns=_empty_bank().columns) if kept else _empty_bank()
    excluded_df = pd.DataFrame(excluded, columns=["quote_id", "reason"])
    return bank.reset_index(drop=True), excluded_df.reset_index(drop=True)


def _empty_bank() -> pd.DataFrame:
    columns = ["quote_id", "respondent_type", "sex", "country", "codes", "themes", "quote"]
    return pd.DataFrame(columns=columns)


CONSENT_YES = frozenset({"yes", "y", "true", "1"})


def identifiers_in(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, str]:
    """identifier -> placeholder from a table's direct-identifier columns (names, villages,
    phones...): known columns get their kind's placeholder, others a guessed one."""
    columns = [c for c in columns if c in frame.columns]
    out = typed_identifiers_from(frame[columns])
    others = {
        " ".join(str(v).split())
        for c in columns
        if c not in IDENTIFIER_COLUMNS
        for v in frame[c].dropna()
    }
    for value in sorted(v for v in others if v):
        out.setdefault(value, _guess_placeholder(value))
    return out


def consented_and_deidentified(
    texts: pd.Series, consent: pd.Series, identifiers: Mapping[str, str]
) -> pd.Series:
    """Free text as cleaning may keep it: only where consent is yes, with identifying details
    replaced; missing where there was no consent or where redaction looks uncertain."""
    text = texts.astype("string").str.strip()
    agreed = consent.astype("string").str.strip().str.lower().isin(CONSENT_YES).fillna(False)
    keep = agreed & text.notna() & (text != "")
    redactor = Redactor(dict(identifiers))
    vocabulary = lowercase_vocabulary(text[keep].dropna())
    out = pd.Series(pd.NA, index=texts.index, dtype="string")
    for original in sorted(set(text[keep])):
        redacted = redactor(original)
        if not redactor.uncertainty(redacted, vocabulary):
            out[keep & (text == original)] = redacted
    return out
