"""Person-record sources with realistic duplicates, households and ground truth.

`generate_persons(persons, seed, out)` writes, deterministically by seed:

- `people_a.csv` (+ `people_a.mapping.toml`, record key type `source_a_id`) and `people_b.csv`
  (+ mapping, `source_b_id`): columns id, first_name, last_name, dob, address, postcode,
  national_id (optional), phone (a household landline). No identifier is shared between the
  files: they resolve through fuzzy rules alone. Each source also holds duplicates of its own.
- `people_truth.csv`: `identifier_type,identifier_value,person_id,linkable`, one row per record
  (the format `identity_graph.evaluation.read_truth` reads).

Noise on every copy after a person's first: typos (substitution, deletion, insertion,
transposition), nicknames, swapped first/last name, missing fields, street-type
abbreviations, upper case, dropped accents, other date formats, day/month swaps and digit
typos in the date, typos in the national id, and occasionally a new address.
Households: people sharing surname, address, postcode and landline, with different first
names and dates of birth (twins excepted: those still differ in first name).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

FIRST_NAMES = (
    "robert william james michael david thomas christopher daniel matthew joseph anthony "
    "andrew stephen edward richard benjamin samuel alexander nicholas peter charles henry "
    "john gregory timothy jonathan katherine elizabeth margaret jennifer susan rebecca "
    "victoria amanda abigail sandra patricia deborah joanne anne emily eleanor sophia "
    "jessica natalie louise oliver george harry jacob noah leo arthur oscar freddie "
    "archie theo lucas isaac max ethan adam ryan liam connor aaron nathan kieran owen "
    "olivia amelia isla ava mia grace lily freya ella poppy evie chloe ruby daisy hannah "
    "lucy holly megan laura rachel claire helen karen julie fiona gemma zoe naomi "
    "priya aisha fatima mohammed omar yusuf ali hamza ibrahim sana amir ravi anil "
    "deepak sunita kavita wei jun mei lin hiroshi yuki kenji sofia mateo diego carmen "
    "lucia javier pablo elena marta ines joao tiago beatriz piotr katarzyna agnieszka "
    "tomasz olga ivan dmitri anna maria renee zoe jose chloe noemie"
).split()
ACCENTED = {"renee": "renée", "jose": "josé", "zoe": "zoë", "noemie": "noémie", "ines": "inés"}
LAST_NAMES = (
    "smith jones williams taylor brown davies evans wilson thomas roberts johnson lewis "
    "walker robinson wood thompson white watson jackson wright green harris cooper king "
    "lee martin clarke james morgan hughes edwards hill moore clark harrison scott young "
    "morris hall ward turner carter phillips mitchell patel adams campbell anderson allen "
    "cook bailey parker miller davis murphy price bell baker griffiths kelly simpson "
    "marshall collins bennett cox richardson fox gray rose chapman hunt robertson shaw "
    "reynolds lloyd ellis richards russell wilkinson khan graham stewart reid murray "
    "powell palmer holmes rogers stevens walsh hunter thomson matthews ross owen mason "
    "knight kennedy butler saunders cole pearce dean foster harvey hudson gibson mills "
    "berry barnes pearson kaur booth dixon grant gordon lane harper ali hart mcdonald "
    "brooks carr macdonald hamilton singh murphy oconnor nowak kowalski garcia martinez "
    "rodriguez lopez hernandez gonzalez fernandez silva santos pereira costa nguyen tran "
    "wang li zhang chen liu yamamoto tanaka sato suzuki muller schmidt schneider fischer "
    "weber meyer wagner becker hoffmann schulz koch richter klein wolf neumann schwarz "
    "zimmermann braun kruger hofmann hartmann lange schmitt werner krause meier lehmann "
    "okafor adeyemi mensah osei kamara diallo ahmed hussain rahman begum chowdhury sharma "
    "gupta verma iyer reddy nair menon das bose"
).split()
ACCENTED_LAST = {"muller": "müller", "kruger": "krüger", "hernandez": "hernández"}
STREETS = (
    "high church station park victoria green manor mill school kings queens london "
    "north south west east new york albert chapel bridge castle elm oak ash willow "
    "cedar birch maple beech hawthorn meadow orchard grange priory abbey windsor "
    "richmond cambridge oxford grove springfield highfield fairfield brook river "
    "lake forest hill valley moor heath common market shore harbour cliff"
).split()
STREET_TYPES = {
    "Street": "St",
    "Road": "Rd",
    "Avenue": "Ave",
    "Lane": "Ln",
    "Drive": "Dr",
    "Close": "Cl",
    "Gardens": "Gdns",
    "Crescent": "Cres",
    "Place": "Pl",
    "Court": "Ct",
}
NICKNAMES_OF: dict[str, list[str]] = {}
for _nick, _name in (
    ("bob", "robert"), ("rob", "robert"), ("bill", "william"), ("will", "william"),
    ("jim", "james"), ("jimmy", "james"), ("mike", "michael"), ("dave", "david"),
    ("tom", "thomas"), ("chris", "christopher"), ("dan", "daniel"), ("matt", "matthew"),
    ("joe", "joseph"), ("tony", "anthony"), ("andy", "andrew"), ("steve", "stephen"),
    ("ed", "edward"), ("rick", "richard"), ("ben", "benjamin"), ("sam", "samuel"),
    ("alex", "alexander"), ("nick", "nicholas"), ("pete", "peter"), ("charlie", "charles"),
    ("harry", "henry"), ("jack", "john"), ("greg", "gregory"), ("tim", "timothy"),
    ("jon", "jonathan"), ("kate", "katherine"), ("katie", "katherine"), ("liz", "elizabeth"),
    ("beth", "elizabeth"), ("maggie", "margaret"), ("jenny", "jennifer"), ("sue", "susan"),
    ("becky", "rebecca"), ("vicky", "victoria"), ("mandy", "amanda"), ("abby", "abigail"),
    ("sandy", "sandra"), ("patty", "patricia"), ("debbie", "deborah"), ("jo", "joanne"),
    ("annie", "anne"), ("ellie", "eleanor"), ("sophie", "sophia"), ("jess", "jessica"),
    ("nat", "natalie"), ("lou", "louise"),
):  # fmt: skip
    NICKNAMES_OF.setdefault(_name, []).append(_nick)
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
COLUMNS = ("id", "first_name", "last_name", "dob", "address", "postcode", "national_id", "phone")


@dataclass
class _Home:
    address: tuple[int, str, str]  # number, street name, street type
    postcode: str
    phone: str


@dataclass
class _Person:
    pid: str
    first: str
    last: str
    dob: date
    home: _Home
    national_id: str
    household: int | None = None
    records: list[tuple[str, str]] = field(default_factory=list)  # (record type, key)


@dataclass(frozen=True)
class PersonsSummary:
    persons: int
    households: int
    household_members: int
    records_a: int
    records_b: int
    out: Path

    @property
    def records(self) -> int:
        return self.records_a + self.records_b


class _Generator:
    def __init__(self, persons: int, seed: int) -> None:
        self.n = persons
        self.rng = random.Random(seed)
        self.homes_used: set[tuple[tuple[int, str, str], str]] = set()

    def postcode(self) -> str:
        r = self.rng
        area = "".join(r.choice(LETTERS[:23]) for _ in range(r.choice((1, 2)))).upper()
        return f"{area}{r.randint(1, 29)} {r.randint(0, 9)}{r.choice(LETTERS).upper()}" + (
            r.choice(LETTERS).upper()
        )

    def home(self) -> _Home:
        r = self.rng
        street = (r.randint(1, 250), r.choice(STREETS).title(), r.choice(list(STREET_TYPES)))
        phone = f"01{r.randint(100, 999)} {r.randint(100000, 999999)}"
        return _Home(street, self.postcode(), phone)

    def dob(self, lo: int = 1940, hi: int = 2005) -> date:
        start = date(lo, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(hi, 12, 31) - start).days))

    def national_id(self) -> str:
        r = self.rng
        prefix = r.choice(LETTERS[:20]).upper() + r.choice(LETTERS[:20]).upper()
        return f"{prefix}{r.randint(0, 999999):06d}{r.choice('ABCD')}"

    def first_name(self) -> str:
        name = self.rng.choice(FIRST_NAMES)
        return ACCENTED.get(name, name).title()

    def last_name(self) -> str:
        name = self.rng.choice(LAST_NAMES)
        name = ACCENTED_LAST.get(name, name)
        return "O'Connor" if name == "oconnor" else name.title()

    def persons(self) -> tuple[list[_Person], int]:
        people: list[_Person] = []
        households = 0
        while len(people) < self.n:
            pid = f"P{len(people) + 1:07d}"
            if self.rng.random() < 0.18 and self.n - len(people) >= 2:
                size = min(self.rng.choice((2, 2, 3, 3, 4, 5)), self.n - len(people))
                home, last = self.home(), self.last_name()
                firsts: set[str] = set()
                parent_dob = self.dob(1945, 1985)
                for m in range(size):
                    first = self.first_name()
                    while first in firsts:
                        first = self.first_name()
                    firsts.add(first)
                    if m < 2:
                        dob = parent_dob + timedelta(days=self.rng.randint(-2000, 2000))
                    elif m == 3 and self.rng.random() < 0.3:
                        dob = people[-1].dob  # twins: same date of birth, other first name
                    else:
                        dob = parent_dob + timedelta(days=self.rng.randint(7000, 12000))
                    pid = f"P{len(people) + 1:07d}"
                    people.append(
                        _Person(pid, first, last, dob, home, self.national_id(), households)
                    )
                households += 1
            else:
                people.append(
                    _Person(
                        pid,
                        self.first_name(),
                        self.last_name(),
                        self.dob(),
                        self.home(),
                        self.national_id(),
                    )
                )
        return people, households

    # -- noise ------------------------------------------------------------------------------
    def typo(self, text: str) -> str:
        if len(text) < 3:
            return text
        r = self.rng
        k = r.randrange(1, len(text))
        kind = r.random()
        if kind < 0.3:
            return text[:k] + r.choice(LETTERS) + text[k + 1 :]
        if kind < 0.55:
            return text[:k] + text[k + 1 :]
        if kind < 0.8:
            return text[:k] + r.choice(LETTERS) + text[k:]
        if k < len(text) - 1:
            return text[:k] + text[k + 1] + text[k] + text[k + 2 :]
        return text[:-1]

    def date_text(self, d: date, style: str) -> str:
        if style == "iso":
            return d.isoformat()
        if style == "dmy":
            return f"{d.day:02d}/{d.month:02d}/{d.year}"
        if style == "dots":
            return f"{d.day}.{d.month}.{d.year}"
        return f"{d.day} {MONTH_ABBR[d.month - 1]} {d.year}"

    def render(self, p: _Person, source: str, clean: bool) -> dict[str, str]:
        r = self.rng
        noisy = 0.0 if clean else 1.0
        first, last = p.first, p.last
        home = p.home
        if not clean and r.random() < 0.05:
            home = self.home()  # moved house between the two records
        number, street, stype = home.address
        if r.random() < 0.15 * noisy and first.lower() in NICKNAMES_OF:
            first = r.choice(NICKNAMES_OF[first.lower()]).title()
        if r.random() < 0.15 * noisy:
            first = self.typo(first)
        if r.random() < 0.15 * noisy:
            last = self.typo(last)
        if r.random() < 0.3 * noisy:
            first = first.replace("é", "e").replace("ë", "e").replace("ü", "u").replace("á", "a")
            last = last.replace("ü", "u").replace("á", "a")
        if r.random() < 0.1:
            last = last.upper()
        if r.random() < 0.04 * noisy:
            first, last = last, first
        stype_text = STREET_TYPES[stype] if r.random() < (0.5 if source == "b" else 0.2) else stype
        address = f"{number} {street} {stype_text}"
        if r.random() < 0.1 * noisy:
            address = self.typo(address)
        if r.random() < 0.1:
            address = address.upper()
        dob = p.dob
        style = "iso" if source == "a" else "dmy"
        if r.random() < 0.2 * noisy:
            style = r.choice(("iso", "dmy", "dots", "text"))
        dob_text = self.date_text(dob, style)
        if r.random() < 0.04 * noisy and dob.day <= 12 and dob.day != dob.month:
            dob_text = self.date_text(date(dob.year, dob.day, dob.month), style)
        elif r.random() < 0.03 * noisy:
            digits = list(dob_text)
            spots = [n for n, c in enumerate(digits) if c.isdigit()]
            n = r.choice(spots)
            digits[n] = str((int(digits[n]) + r.randint(1, 9)) % 10)
            dob_text = "".join(digits)
        nid = p.national_id if r.random() < (0.7 if source == "a" else 0.4) else ""
        if nid and r.random() < 0.05 * noisy:
            nid = self.typo(nid.lower()).upper()
        if nid and r.random() < 0.2:
            nid = f"{nid[:2]} {nid[2:4]} {nid[4:6]} {nid[6:8]} {nid[8:]}"
        postcode = home.postcode if r.random() > 0.08 * noisy else ""
        if postcode and r.random() < 0.2:
            postcode = postcode.replace(" ", "").lower()
        row = {
            "first_name": first,
            "last_name": last,
            "dob": dob_text if r.random() > 0.04 * noisy else "",
            "address": address if r.random() > 0.05 * noisy else "",
            "postcode": postcode,
            "national_id": nid,
            "phone": home.phone if r.random() < 0.6 else "",
        }
        return row


MAPPING = """[source]
trust = 0.9

[record]
key_column = "id"
key_type = "{key_type}"

[attributes]
first_name = "first_name"
last_name = "last_name"
dob = "dob"
address = "address"
postcode = "postcode"
national_id = "national_id"
phone = "phone"
"""


def generate_persons(persons: int, seed: int, out: Path) -> PersonsSummary:
    """Write the two person sources, their mappings and the truth into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    g = _Generator(persons, seed)
    people, households = g.persons()
    rows: dict[str, list[tuple[dict[str, str], _Person]]] = {"a": [], "b": []}
    for p in people:
        seen_before = False
        for source, present, dup in (("a", 0.75, 0.12), ("b", 0.6, 0.08)):
            if g.rng.random() >= present:
                continue
            copies = 1 + (g.rng.random() < dup) + (g.rng.random() < dup / 4)
            for _ in range(copies):
                rows[source].append((g.render(p, source, clean=not seen_before), p))
                seen_before = True
    truth: list[tuple[str, str, str]] = []
    counts: dict[str, int] = {}
    for source, key_type in (("a", "source_a_id"), ("b", "source_b_id")):
        records = rows[source]
        g.rng.shuffle(records)
        path = out / f"people_{source}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS)
            for n, (row, p) in enumerate(records, 1):
                key = f"{source.upper()}{n:08d}"
                writer.writerow([key, *(row[c] for c in COLUMNS[1:])])
                truth.append((key_type, key, p.pid))
        (out / f"people_{source}.mapping.toml").write_text(
            MAPPING.format(key_type=key_type), encoding="utf-8"
        )
        counts[source] = len(records)
    with (out / "people_truth.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["identifier_type", "identifier_value", "person_id", "linkable"])
        writer.writerows((t, v, pid, 1) for t, v, pid in truth)
    with (out / "people_households.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["person_id", "household_id"])
        writer.writerows((p.pid, p.household) for p in people if p.household is not None)
    return PersonsSummary(
        persons=len(people),
        households=households,
        household_members=sum(p.household is not None for p in people),
        records_a=counts["a"],
        records_b=counts["b"],
        out=out,
    )


def read_households(path: Path) -> dict[str, str]:
    """person id -> household id, from `people_households.csv`."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["person_id"]: row["household_id"] for row in csv.DictReader(fh)}
