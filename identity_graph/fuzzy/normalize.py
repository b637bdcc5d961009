"""Field normalization before comparison and blocking. Pure functions, cached per value.

Steps (a field lists the ones it wants, applied in this order): `accents` (NFKD, combining
marks dropped), `case` (casefold), `punctuation` (to spaces), `whitespace` (collapsed),
`nicknames` (each token mapped to its canonical first name), `address` (street-type
abbreviations expanded: St -> street), `date` (any common format to ISO `YYYY-MM-DD`),
`digits` (only the digits and a decimal point kept), `nospace` (every space removed: postcodes,
national ids).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache

NICKNAMES: dict[str, str] = {
    "bob": "robert",
    "bobby": "robert",
    "rob": "robert",
    "robbie": "robert",
    "bill": "william",
    "billy": "william",
    "will": "william",
    "liam": "william",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "mike": "michael",
    "mick": "michael",
    "mikey": "michael",
    "dave": "david",
    "davy": "david",
    "tom": "thomas",
    "tommy": "thomas",
    "chris": "christopher",
    "kit": "christopher",
    "dan": "daniel",
    "danny": "daniel",
    "matt": "matthew",
    "joe": "joseph",
    "joey": "joseph",
    "tony": "anthony",
    "andy": "andrew",
    "drew": "andrew",
    "steve": "stephen",
    "steven": "stephen",
    "ed": "edward",
    "eddie": "edward",
    "ted": "edward",
    "rich": "richard",
    "rick": "richard",
    "dick": "richard",
    "ben": "benjamin",
    "sam": "samuel",
    "alex": "alexander",
    "nick": "nicholas",
    "pete": "peter",
    "charlie": "charles",
    "chuck": "charles",
    "harry": "henry",
    "hank": "henry",
    "jack": "john",
    "johnny": "john",
    "greg": "gregory",
    "tim": "timothy",
    "jon": "jonathan",
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "cathy": "katherine",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "betty": "elizabeth",
    "lizzie": "elizabeth",
    "maggie": "margaret",
    "meg": "margaret",
    "peggy": "margaret",
    "jenny": "jennifer",
    "jen": "jennifer",
    "sue": "susan",
    "susie": "susan",
    "becky": "rebecca",
    "becca": "rebecca",
    "vicky": "victoria",
    "tori": "victoria",
    "mandy": "amanda",
    "abby": "abigail",
    "sandy": "sandra",
    "patty": "patricia",
    "trish": "patricia",
    "debbie": "deborah",
    "deb": "deborah",
    "jo": "joanne",
    "annie": "anne",
    "ann": "anne",
    "em": "emily",
    "emmy": "emily",
    "ellie": "eleanor",
    "nell": "eleanor",
    "lucy": "lucinda",
    "sophie": "sophia",
    "jess": "jessica",
    "jessie": "jessica",
    "sarah": "sara",
    "nat": "natalie",
    "lou": "louise",
}

ADDRESS_WORDS: dict[str, str] = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "cres": "crescent",
    "cl": "close",
    "gdns": "gardens",
    "gdn": "garden",
    "pk": "park",
    "hse": "house",
    "apt": "flat",
    "no": "",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "mt": "mount",
    "terr": "terrace",
    "ter": "terrace",
}

MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for m in names
}  # fmt: skip

_PUNCT = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")
_NOT_NUMBER = re.compile(r"[^0-9.]")
_YMD = re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TEXT_MONTH = re.compile(r"^(\d{1,2})\s*([a-z]+)\.?,?\s*(\d{4})$")
_MONTH_FIRST = re.compile(r"^([a-z]+)\.?\s*(\d{1,2}),?\s*(\d{4})$")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _iso(y: int, m: int, d: int) -> str:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        # keep an impossible date comparable (a day/month swap of a real one, often)
        return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= m <= 31 and 1 <= d <= 31 else ""


def parse_date(text: str, *, day_first: bool = True) -> str:
    """A date in any common format as `YYYY-MM-DD`; "" when it cannot be read.

    Numeric `a/b/yyyy` is read day first (`day_first`); a first number above 12 is a day and
    a second above 12 is a day either way. Two-digit years pivot at 30 (29 -> 2029).
    """
    t = text.strip().lower()
    if not t:
        return ""
    t = t.split("t")[0] if re.match(r"^\d{4}-\d{2}-\d{2}t", t) else t
    if m := _YMD.match(t):
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(t):
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY.match(t):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        if y < 100:
            y += 2000 if y < 30 else 1900
        day, month = (a, b) if day_first else (b, a)
        if month > 12 >= day:
            day, month = month, day
        return _iso(y, month, day)
    if (m := _TEXT_MONTH.match(t)) and m[2] in MONTHS:
        return _iso(int(m[3]), MONTHS[m[2]], int(m[1]))
    if (m := _MONTH_FIRST.match(t)) and m[1] in MONTHS:
        return _iso(int(m[3]), MONTHS[m[1]], int(m[2]))
    return ""


def make_normalizer(
    steps: tuple[str, ...], nicknames: Mapping[str, str] | None = None
) -> Callable[[str], str]:
    """A cached function applying `steps` (see the module docstring) to one value."""
    table = {**NICKNAMES, **(nicknames or {})}

    @lru_cache(maxsize=1 << 18)
    def norm(value: str) -> str:
        text = value
        if "date" in steps:
            return parse_date(text)
        if "accents" in steps:
            text = strip_accents(text)
        if "case" in steps:
            text = text.casefold()
        if "digits" in steps:
            return _NOT_NUMBER.sub("", text)
        if "punctuation" in steps:
            text = _PUNCT.sub(" ", text)
        if "whitespace" in steps or "nicknames" in steps or "address" in steps:
            text = _SPACES.sub(" ", text).strip()
        if "nospace" in steps:
            text = _SPACES.sub("", text)
        if "nicknames" in steps:
            text = " ".join(table.get(w, w) for w in text.split(" "))
        if "address" in steps:
            text = " ".join(w for w in (ADDRESS_WORDS.get(w, w) for w in text.split(" ")) if w)
        return text

    return norm
