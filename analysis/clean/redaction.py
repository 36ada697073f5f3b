"""Redaction of free text: the one rule for every kept free-text field and every quote.

Cleaning (:mod:`analysis.clean.wave`: free-text fields and consented quotes) and the quote bank
(:mod:`analysis.interviews.quotes`) both call this module; nothing else redacts.

**Which fields.** A field is redacted because its codebook says it is free text
(:func:`is_free_text`): it names a consent field (``x-consent``: quotes) or carries
``x-free-text: true``. Nothing is redacted because its values look like a phone number: an ID
column declared ``x-identifier: none`` is kept exactly as it is.

**What is removed**, in this order, by placeholders ``[name]``, ``[place]``, ``[age]``,
``[phone]``, ``[email]`` and ``[employer]``:

1. e-mail addresses;
2. every value of every direct-identifier field of the dataset (all rows, not only the
   speaker's), and the parts of names, places and employers of at least ``MIN_PART_CHARS``
   characters. Both sides are Unicode-normalised (NFKC) and case-folded, digits of any system
   (Thai, Khmer, Lao, Myanmar, Arabic-Indic, full-width...) read as 0-9 and zero-width
   characters ignored. Terms in a non-Latin script (Thai, Lao, Khmer and Myanmar write words
   without spaces) match anywhere, as substrings; Latin-script terms match as whole words;
3. every run of at least ``MIN_NUMBER_DIGITS`` digits, in any digit system, with spaces or
   ``/ . - ( ) +`` between them (phones, ID and account numbers);
4. ages, employers, a gazetteer of border towns, village prefixes, titles and common given
   names of the region (given names of four letters or more also in lower case).

**Uncertain** (the text is not used: a quote stays out of the bank with the reason, a cleaned
quote is blanked): a run of five or more digits left; an ``@``; a part of an identifier left
inside a longer word; a capitalised word not on the allow-list; an unfamiliar lower-case word
right after ``[name]`` (a family name).

**Held for a person** (:func:`held_for_review`): a consented quote whose only doubt is that it
has letters of a non-Latin script (the redactor cannot check them for names that are not in the
data). Cleaning keeps its redacted text in the restricted cleaned table, and it reaches a brief
only when a person approved exactly that redacted text (:mod:`analysis.interviews.review`).

Known limits: names that are neither in the data nor on the built-in lists and are written in
lower case (other than right after a redacted name) are not caught; transliterations (a Thai
name in the data, its Latin spelling in a quote) are not matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.errors import CodebookError

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
# -- reasons a text is left out --------------------------------------------------------------
UNCERTAIN_WORD = (
    "possible name or place left after redaction (a capitalised word not on the allow-list, "
    "or an unfamiliar word right after a redacted name)"
)
UNCERTAIN_NUMBER = "possible number identifier left after redaction (five or more digits)"
UNCERTAIN_AT = "possible e-mail or handle left after redaction ('@')"
UNCERTAIN_PART = "part of a name, place or other identifier of the dataset left inside a word"
UNCERTAIN_SCRIPT = (
    "text in {scripts} script, which the redactor cannot check for names that are not in the "
    "data (needs a person's review)"
)

# -- the rule's parameters -------------------------------------------------------------------
MIN_PART_CHARS = 3  # name parts (given, family, village words) redacted from this length
MIN_INNER_PART_CHARS = 5  # a Latin part this long found inside a longer word: uncertain
MIN_NUMBER_DIGITS = 7  # digit runs this long are redacted as [phone]
MAX_WORDS_SPLIT = 5  # identifier values of at most this many words are also split into parts
CONSENT_YES = frozenset({"yes", "y", "true", "1"})

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
)
_NUM = rf"(?:\d{{1,3}}|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?)"
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
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
_AFTER_NAME = re.compile(r"\[name\]\s+([^\W\d_][\w'’-]*)")
# In folded text (digits already 0-9): a digit run with separators, and a shorter one.
_SEPARATOR = r"[ ()./\-‐‑‒–—+]"
_DIGIT_RUN = re.compile(rf"\+?\(?[0-9](?:{_SEPARATOR}*[0-9])+")
_LEFT_NUMBER = re.compile(rf"[0-9](?:{_SEPARATOR}?[0-9]){{4,}}")
# Casefolded Latin letters and digits: the word characters around a Latin term.
_LATIN_WORD = r"0-9a-z\u00aa\u00b5\u00ba\u00df-\u024f\u1e00-\u1eff\u0300-\u036f"
_PART_SPLIT = re.compile(r"[\s,;/()\-]+")
# Given names that are also English words stay case-sensitive.
_ENGLISH_NAMES = frozenset({"grace", "rose", "mark", "long", "hung", "joy", "nam", "mai", "min"})


# -- normalisation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Folded:
    """A text as matched: case-folded, digits as 0-9, one space per run of white space,
    zero-width characters dropped; ``origin[i]`` is the source index of folded character i."""

    text: str
    origin: tuple[int, ...]


def nfkc(text: str) -> str:
    """Unicode NFKC normal form (full-width letters and digits become ordinary ones)."""
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> Folded:
    """The matching form of ``text`` with the position of each character in ``text``."""
    chars: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Cf":  # zero-width space/joiners, soft hyphen
            continue
        if category == "Nd":
            out = str(unicodedata.digit(ch))
        elif ch.isspace():
            if chars and chars[-1] == " ":
                continue
            out = " "
        else:
            out = ch.casefold()
        chars.extend(out)
        origin.extend([index] * len(out))
    return Folded("".join(chars), tuple(origin))


def fold_term(text: str) -> str:
    """The matching form of an identifier value."""
    return fold(nfkc(str(text))).text.strip()


def _script(ch: str) -> str:
    """Unicode script of a letter or mark, from its name ('LATIN', 'THAI', 'KHMER'...)."""
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def foreign_scripts(text: str) -> list[str]:
    """Scripts other than Latin whose letters or marks occur in ``text``, sorted."""
    found = set()
    for ch in text:
        if unicodedata.category(ch)[0] in "LM":
            script = _script(ch)
            if script not in ("LATIN", "COMBINING", "MODIFIER"):
                found.add(script)
    return sorted(found)


def _is_latin(term: str) -> bool:
    """True when every letter of ``term`` is Latin (words separated by spaces)."""
    return not foreign_scripts(term)


_LATIN_WORD_CHAR = re.compile(rf"[{_LATIN_WORD}]")
_LATIN_TOKEN = re.compile(rf"[{_LATIN_WORD}]+")


def _bounded(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is not part of a longer Latin word."""
    before = start > 0 and _LATIN_WORD_CHAR.match(text[start - 1])
    after = end < len(text) and _LATIN_WORD_CHAR.match(text[end])
    return not before and not after


class TermIndex:
    """Folded identifier terms found in folded text: Latin terms as whole words, others
    anywhere; a term also matches written without its spaces. Terms are looked up by their
    first two characters, so thousands of names cost little."""

    def __init__(self, terms: Mapping[str, str]) -> None:
        self._by_prefix: dict[str, list[tuple[str, str, bool]]] = {}
        ordered = sorted(terms.items(), key=lambda kv: (-len(kv[0]), kv[0]))
        for term, placeholder in ordered:
            latin = _is_latin(term)
            for variant in dict.fromkeys((term, term.replace(" ", ""))):
                if len(variant) >= 2:
                    entry = (variant, placeholder, latin)
                    self._by_prefix.setdefault(variant[:2], []).append(entry)
        for entries in self._by_prefix.values():
            entries.sort(key=lambda e: -len(e[0]))

    def __bool__(self) -> bool:
        return bool(self._by_prefix)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, placeholder) of the longest term at each position, left to right."""
        out, i = [], 0
        while i < len(text) - 1:
            for variant, placeholder, latin in self._by_prefix.get(text[i : i + 2], ()):
                end = i + len(variant)
                if text.startswith(variant, i) and (not latin or _bounded(text, i, end)):
                    out.append((i, end, placeholder))
                    i = end
                    break
            else:
                i += 1
        return out


def _splice(text: str, folded: Folded, spans: Iterable[tuple[int, int, str]]) -> str:
    """``text`` with the source characters of folded spans replaced (overlaps: first wins)."""
    out, last = [], 0
    for start, end, placeholder in sorted(spans):
        source_start, source_end = folded.origin[start], folded.origin[end - 1] + 1
        if source_start < last:
            continue
        out += [text[last:source_start], placeholder]
        last = source_end
    out.append(text[last:])
    return "".join(out)


def _replace_terms(text: str, index: TermIndex) -> str:
    """Replace the identifier terms of ``index`` found in the folded form of ``text``."""
    folded = fold(text)
    spans = index.spans(folded.text)
    return _splice(text, folded, spans) if spans else text


def _replace_folded(
    text: str, pattern: re.Pattern[str], placeholder_of: Callable[[str], str | None]
) -> str:
    """Replace matches of ``pattern`` in the folded form of ``text`` (None: keep the match)."""
    folded = fold(text)
    spans = []
    for match in pattern.finditer(folded.text):
        placeholder = placeholder_of(match.group(0))
        if placeholder is not None and match.end() > match.start():
            spans.append((match.start(), match.end(), placeholder))
    return _splice(text, folded, spans) if spans else text


def _phone_if_long(run: str) -> str | None:
    """[phone] for a digit run of at least MIN_NUMBER_DIGITS digits (years and counts stay)."""
    return PHONE if sum(ch.isdigit() for ch in run) >= MIN_NUMBER_DIGITS else None


def redact_numbers(text: str) -> str:
    """Runs of MIN_NUMBER_DIGITS or more digits (any digit system, any separators) -> [phone]."""
    return _replace_folded(nfkc(text), _DIGIT_RUN, _phone_if_long)


# -- which fields, which identifiers ---------------------------------------------------------
def is_free_text(field: Any) -> bool:
    """Whether the codebook declares ``field`` free text: ``x-consent`` or ``x-free-text: true``.

    Raises CodebookError when ``x-free-text`` is not true or false (a "yes" must not quietly
    leave a text unredacted).
    """
    raw = getattr(field, "raw", field) or {}
    declared = raw.get("x-free-text", False)
    if not isinstance(declared, bool):
        raise CodebookError(
            f"x-free-text of field {raw.get('name', '?')!r} is {declared!r}, not true or false",
            column=str(raw.get("name", "")),
            hint="write x-free-text: true for text that may name people (it is then redacted), "
            "or leave it out",
        )
    return bool(raw.get("x-consent")) or declared


def reads_like_free_text(field: Any, values: pd.Series) -> bool:
    """A string field without categories, NOT declared free text, whose values read like
    sentences (a fifth or more have four words or more): worth a warning, never a redaction."""
    if getattr(field, "type", "") != "string" or is_free_text(field):
        return False
    if getattr(field, "categories", ()) or getattr(field, "enum", None) is not None:
        return False
    text = values.dropna().astype(str)
    if text.empty:
        return False
    # only values with whitespace can have four words: the rest (IDs, codes) are not split
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from analysis.validate.wave import SPACE_CLASS

    cells = pa.array(text.to_numpy(dtype=object), type=pa.large_string())
    spaced = np.asarray(pc.match_substring_regex(cells, SPACE_CLASS), dtype=bool)
    candidates = text[spaced]
    sentences = int((candidates.str.split().str.len() >= 4).sum()) if len(candidates) else 0
    return sentences / len(text) >= 0.2


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


_COLUMN_KINDS = (
    ("mail", EMAIL),
    ("phone", PHONE),
    ("mobile", PHONE),
    ("tel", PHONE),
    ("village", PLACE),
    ("place", PLACE),
    ("address", PLACE),
    ("employer", EMPLOYER),
    ("company", EMPLOYER),
    ("name", NAME),
)


def _column_placeholder(column: str) -> str | None:
    """Placeholder a column's name implies (``respondent_name`` -> [name]), or None."""
    lowered = column.lower()
    return next((p for word, p in _COLUMN_KINDS if word in lowered), None)


def identifiers_in(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, str]:
    """identifier -> placeholder for every value of the given direct-identifier columns of
    ``frame`` (all rows); the placeholder comes from the column name, else from the value."""
    out: dict[str, str] = {}
    for column in (c for c in columns if c in frame.columns):
        implied = _column_placeholder(str(column))
        for value in frame[column].dropna().astype(str):
            value = " ".join(value.split())
            if value:
                out.setdefault(value, implied or _guess_placeholder(value))
    return out


def typed_identifiers_from(raw: pd.DataFrame) -> dict[str, str]:
    """Names and villages of the raw interview table with their placeholders (transient: pass
    to the quote bank, never write to disk)."""
    return identifiers_in(raw, IDENTIFIER_COLUMNS)


def identifiers_from(raw: pd.DataFrame) -> set[str]:
    """Names and villages of the raw interview table, without placeholders."""
    return set(typed_identifiers_from(raw))


def normalise_identifiers(planted: Any) -> dict[str, str]:
    """identifier -> placeholder from a set/list, a {identifier: placeholder/kind} or a
    {kind: [identifiers]} mapping."""
    if planted is None:
        return {}
    out: dict[str, str] = {}
    if isinstance(planted, Mapping):
        for key, value in planted.items():
            if isinstance(value, str):
                placeholder = value if value.startswith("[") else _KINDS.get(value.lower())
                out[str(key)] = placeholder or _guess_placeholder(str(key))
            elif isinstance(value, Iterable):
                placeholder = _KINDS.get(str(key).lower())
                for ident in value:
                    out[str(ident)] = placeholder or _guess_placeholder(str(ident))
    else:
        for ident in planted:
            out[str(ident)] = _guess_placeholder(str(ident))
    return {" ".join(k.split()): v for k, v in out.items() if k and k.strip()}


_ALLOWED_PLACE_LIST = [p.strip() for p in ALLOWED_PLACES.split(",") if p.strip()]
_ALLOWED_TOKENS = frozenset(tok for p in _ALLOWED_PLACE_LIST for tok in p.split())
_NAME_PARTICLES = frozenset({"bin", "binti", "a/l", "a/p", "de", "dela", "del", "van", "thi"})
_KEPT_PARTS = frozenset(
    w.casefold() for w in (*_ALLOWED_TOKENS, *ALLOWED_WORDS, *COMMON_WORDS, *_NAME_PARTICLES)
)


def _is_part(part: str) -> bool:
    """A word of a name or place worth redacting on its own (not a common or allowed word)."""
    return (
        len(part) >= MIN_PART_CHARS
        and not any(ch.isdigit() for ch in part)
        and part.strip(".'’") not in _KEPT_PARTS
    )


def identifier_terms(identifiers: Mapping[str, str]) -> dict[str, str]:
    """folded term -> placeholder: each identifier value (2+ characters) and, for short names,
    places and employers, each part of MIN_PART_CHARS or more characters."""
    terms: dict[str, str] = {}
    for value, placeholder in sorted(identifiers.items(), key=lambda kv: (-len(kv[0]), kv[0])):
        folded = fold_term(value)
        if len(folded) >= 2:
            terms.setdefault(folded, placeholder)
        if placeholder in (NAME, PLACE, EMPLOYER) and len(folded.split()) <= MAX_WORDS_SPLIT:
            for part in _PART_SPLIT.split(folded):
                if _is_part(part):
                    terms.setdefault(part.strip(".'’"), placeholder)
    return terms


# -- the redactor ----------------------------------------------------------------------------
class Redactor:
    """Replaces identifying details in one text and judges what is left; reusable."""

    def __init__(self, identifiers: Mapping[str, str] | None = None) -> None:
        terms = identifier_terms(dict(identifiers or {}))
        self._terms = TermIndex(terms)
        ordered = sorted(terms, key=lambda t: (-len(t), t))
        self._inner_parts = frozenset(
            t
            for t in ordered
            if _is_latin(t) and " " not in t and len(t) >= MIN_INNER_PART_CHARS and t.isalpha()
        )
        allowed = sorted(_ALLOWED_PLACE_LIST, key=len, reverse=True)
        self._allowed_re = re.compile("|".join(_literal(p) for p in allowed))
        gaz = sorted(GAZETTEER, key=len, reverse=True)
        self._gazetteer = re.compile("|".join(_literal(g) for g in gaz), re.IGNORECASE)
        self._first = re.compile(r"(?<![\w])(?:" + "|".join(sorted(FIRST_NAMES)) + r")(?![\w])")
        lower_names = sorted(
            n for n in FIRST_NAMES if len(n) >= 4 and n.casefold() not in _ENGLISH_NAMES
        )
        self._first_any_case = re.compile(
            r"(?<![\w])(?:" + "|".join(lower_names) + r")(?![\w])", re.IGNORECASE
        )
        self._title = re.compile(rf"\b(?:{_TITLES})\.?\s+(?:\[name\]|{_CAP}(?:\s+{_CAP}){{0,2}})")
        self._village = re.compile(rf"\b(?:{_VILLAGE_PREFIXES})\s+{_CAP}(?:\s+{_CAP}){{0,2}}")
        self._place_word = re.compile(rf"\b{_CAP}(?:\s+{_CAP}){{0,2}}(?=\s+(?:{_PLACE_WORDS})\b)")
        self._employer = re.compile(
            rf"\b(?:{_CAP}\s+){{0,3}}{_CAP}\s+(?:{_EMPLOYER_SUFFIXES})(?![\w])"
        )

    def _keep_allowed(self, placeholder: str) -> Callable[[re.Match[str]], str]:
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
        """The text (NFKC-normalised) with identifying details replaced by placeholders."""
        out = _EMAIL_RE.sub(EMAIL, nfkc(str(text)))
        if self._terms:
            out = _replace_terms(out, self._terms)
        out = redact_numbers(out)
        for i, pattern in enumerate(_AGE_RES):
            out = pattern.sub(rf"\1{AGE}" if i == _AGE_KEEP_PREFIX else AGE, out)
        out = self._employer.sub(self._keep_allowed(EMPLOYER), out)
        out = self._gazetteer.sub(PLACE, out)
        out = self._village.sub(self._keep_allowed(PLACE), out)
        out = self._place_word.sub(self._keep_allowed(PLACE), out)
        out = self._title.sub(NAME, out)
        out = self._first.sub(NAME, out)
        out = self._first_any_case.sub(NAME, out)
        return _REPEATED.sub(r"\1", out)

    def _part_inside_a_word(self, folded: str) -> bool:
        """True when a Latin identifier part is inside a word of the folded text."""
        for word in _LATIN_TOKEN.findall(folded):
            for size in range(MIN_INNER_PART_CHARS, len(word) + 1):
                for start in range(len(word) - size + 1):
                    if word[start : start + size] in self._inner_parts:
                        return True
        return False

    def leftover(self, text: str) -> str:
        """Why a redacted text may still hold an identifier, by checks that do not depend on
        script or case (numbers, '@', identifier parts inside words); '' when none."""
        folded = fold(_PLACEHOLDER.sub(" ", nfkc(str(text)))).text
        if _LEFT_NUMBER.search(folded):
            return UNCERTAIN_NUMBER
        if "@" in folded:
            return UNCERTAIN_AT
        if self._part_inside_a_word(folded):
            return UNCERTAIN_PART
        return ""

    def uncertainty(self, text: str, vocabulary: frozenset[str] = frozenset()) -> str:
        """Why a redacted text may still identify someone ('' when it looks clean).

        ``vocabulary``: ordinary words (seen in lower case in other quotes); a capitalised word
        opening a sentence, or a word after ``[name]``, is accepted when it is one of them. The
        script reason comes last: it is given only when every other check passed.
        """
        text = nfkc(str(text))
        reason = self.leftover(text)
        if reason:
            return reason
        masked = _PLACEHOLDER.sub(" ", text)
        reason = self._word_left(text, masked, vocabulary)
        if reason:
            return reason
        scripts = foreign_scripts(masked)
        if scripts:
            return UNCERTAIN_SCRIPT.format(scripts=", ".join(s.title() for s in scripts))
        return ""

    def _word_left(self, text: str, masked: str, vocabulary: frozenset[str]) -> str:
        """UNCERTAIN_WORD when a capitalised or after-name word may be a name; '' otherwise."""
        masked = self._allowed_re.sub(" ", masked)
        for match in _CAPITALISED.finditer(masked):
            bare = re.sub(r"(?:['’]s|['’])$", "", match.group(0))
            if bare in ALLOWED_WORDS or bare.lower() in COMMON_WORDS or bare in _ALLOWED_TOKENS:
                continue
            opens = _SENTENCE_START.search(masked[: match.start()]) is not None
            if opens and bare.lower() in vocabulary:
                continue
            return UNCERTAIN_WORD
        for match in _AFTER_NAME.finditer(text):
            word = match.group(1).casefold()
            if word not in COMMON_WORDS and word not in vocabulary:
                return UNCERTAIN_WORD
        return ""


_SCRIPT_REASON = re.compile(re.escape(UNCERTAIN_SCRIPT).replace(re.escape("{scripts}"), ".+"))


def held_for_review(reason: str) -> bool:
    """True when the only doubt about a redacted quote is a script the redactor cannot check
    (``Redactor.uncertainty`` gives that reason only when every other check passed): a person
    may approve exactly that text; any other doubt keeps it out."""
    return bool(_SCRIPT_REASON.fullmatch(reason))


def _literal(text: str) -> str:
    """Regex for a built-in place: escaped, any whitespace between words, whole words only."""
    parts = [re.escape(p) for p in text.split()]
    return r"(?<![\w])" + r"\s+".join(parts) + r"(?![\w])"


def redact(text: str, identifiers: Any = None) -> str:
    """One text with identifying details replaced (see the module docstring for the rules)."""
    return Redactor(normalise_identifiers(identifiers))(text)


def lowercase_vocabulary(texts: Iterable[str], min_texts: int = 2) -> frozenset[str]:
    """Words seen in lower case in at least ``min_texts`` different texts (ordinary words, not
    a name that one speaker happened to write in lower case)."""
    seen: Counter[str] = Counter()
    for text in {str(t) for t in texts}:
        seen.update({w for w in _LOWER_WORD.findall(nfkc(text)) if len(w) > 1})
    return frozenset(w for w, n in seen.items() if n >= min_texts)


def _agreed(consent: pd.Series) -> pd.Series:
    """True where a consent field says yes."""
    return consent.astype("string").str.strip().str.lower().isin(CONSENT_YES).fillna(False)


def consented_and_deidentified(
    texts: pd.Series, consent: pd.Series, identifiers: Mapping[str, str]
) -> pd.Series:
    """A quote field as cleaning keeps it: only where consent is yes, redacted; missing where
    there was no consent or anything looks uncertain after redaction, except a quote held for a
    person's review (:func:`held_for_review`: its only doubt is a non-Latin script)."""
    text = texts.astype("string").str.strip()
    keep = _agreed(consent) & text.notna() & (text != "")
    redactor = Redactor(dict(identifiers))
    vocabulary = lowercase_vocabulary(text[keep].dropna())
    out = pd.Series(pd.NA, index=texts.index, dtype="string")
    for original in sorted(set(text[keep])):
        redacted = redactor(original)
        reason = redactor.uncertainty(redacted, vocabulary)
        if not reason or held_for_review(reason):
            out[keep & (text == original)] = redacted
    return out


def deidentified_free_text(texts: pd.Series, identifiers: Mapping[str, str]) -> pd.Series:
    """A free-text field (not a quote) as cleaning keeps it: redacted; missing where a number,
    an '@' or part of an identifier is left after redaction."""
    text = texts.astype("string")
    redactor = Redactor(dict(identifiers))
    out = pd.Series(pd.NA, index=texts.index, dtype="string")
    for original in sorted(set(text.dropna())):
        redacted = redactor(original)
        if not redactor.leftover(redacted):
            out[text == original] = redacted
    return out
