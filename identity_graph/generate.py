"""Sample data generator with ground truth.

``generate(persons, seed, out_dir)`` writes a small synthetic retail world to ``out_dir``:

``events.jsonl``
    Segment-spec messages (identify, page, track, screen, alias, a few group), one JSON object
    per line, spread over about 90 days after ``start``. Lines are written session by session in
    session start order, so timestamps are nearly (not strictly) ascending.
``crm.csv`` + ``crm.mapping.toml``
    One CRM customer row for about 70 % of persons (``customer_id`` is the record key of type
    ``crm_id``).
``pos.csv`` + ``pos.mapping.toml``
    Store till transactions of loyalty members (about 40 % of persons, one or more rows each;
    ``receipt_id`` is the record key of type ``receipt_id``).
``truth.csv``
    ``identifier_type,identifier_value,person_id,linkable``: one row per distinct identifier that
    occurs in a valid observation, with its value already normalized (emails trimmed and
    lowercased, phones in E.164, ids trimmed as-is).

``linkable`` is 1 when the identifier lies in the person's *main* co-observation component:
identifiers of one person are joined when they occur in the same event or row (an alias event
carries ``previousId`` and ``userId``, so it joins them too); the main component is the one
with the most identifiers other than receipt ids (ties: the one holding the ``user_id``, then
the larger), provided it has at least two identifiers. An identifier outside it (a cookie that
never logged in, an app install that never logged in, a loyalty card only ever shown without a
phone) shares no evidence with the person's main identity, so no engine can attach it there:
it gets 0, and a perfect engine reaches recall 1.0 on the linkable rows. The public kiosk
cookie belongs to the pseudo person ``public`` with linkable 0.

Noise (defaults in :class:`NoiseRates`): random case and surrounding whitespace on emails,
national and international UK phone formats, placeholder values (``test@test.com``,
``0000000000``, ``n/a``, ``null``, empty), 1-3 browsers per person with cookie churn every two
to six weeks, 1-2 app devices for app users, households sharing city and usually surname with a
tablet that one member logs in on and the others use anonymously, one public kiosk cookie seen
with about 30 persons, work emails, truncated JSON lines and bad CSV rows.

Everything comes from one ``random.Random(seed)``: the same arguments give byte-identical
files. Output is streamed; memory is O(persons) (each person keeps its identifiers for the
truth file).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Final, TextIO

__all__ = ["GenerateSummary", "NoiseRates", "generate", "PUBLIC_PERSON", "KIOSK_ANONYMOUS_ID"]

PUBLIC_PERSON: Final = "public"
KIOSK_ANONYMOUS_ID: Final = "anon-public-kiosk-1"

DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_DAYS: Final = 90

_SECOND: Final = 1000
_MINUTE: Final = 60 * _SECOND
_DAY: Final = 24 * 60 * _MINUTE
_WINDOW_MS: Final = WINDOW_DAYS * _DAY

# Identifier types (truth.csv and the mapping files use these names).
T_EMAIL: Final = "email"
T_PHONE: Final = "phone"
T_ANON: Final = "anonymous_id"
T_DEVICE: Final = "device_id"
T_USER: Final = "user_id"
T_CRM: Final = "crm_id"
T_LOYALTY: Final = "loyalty_id"
T_RECEIPT: Final = "receipt_id"

# UK mobile ranges that are valid for `phonenumbers` over the whole 000000-999999 block.
_PHONE_PREFIXES: Final = (
    "7400",
    "7401",
    "7402",
    "7403",
    "7404",
    "7405",
    "7406",
    "7407",
    "7408",
    "7409",
)
_PHONE_BLOCK: Final = 1_000_000
_PHONE_STRIDE: Final = 7919  # prime, coprime with 10**6: a bijection on each block

EMAIL_PLACEHOLDERS: Final = ("test@test.com", "n/a", "null", "")
PHONE_PLACEHOLDERS: Final = ("0000000000", "n/a", "null", "")

_FIRST_NAMES: Final = (
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Jacob",
    "Noah",
    "Charlie",
    "Muhammad",
    "Thomas",
    "Oscar",
    "William",
    "James",
    "Henry",
    "Leo",
    "Alfie",
    "Joshua",
    "Freddie",
    "Archie",
    "Ethan",
    "Isaac",
    "Alexander",
    "Joseph",
    "Edward",
    "Samuel",
    "Max",
    "Daniel",
    "Arthur",
    "Lucas",
    "Mohammed",
    "Logan",
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Emily",
    "Isabella",
    "Mia",
    "Poppy",
    "Ella",
    "Lily",
    "Evie",
    "Grace",
    "Sophia",
    "Sophie",
    "Freya",
    "Charlotte",
    "Florence",
    "Daisy",
    "Alice",
    "Jessica",
    "Ruby",
    "Sienna",
    "Phoebe",
    "Chloe",
    "Matilda",
    "Evelyn",
    "Harper",
    "Priya",
    "Aisha",
    "Zara",
    "Fatima",
    "Hannah",
    "Lucy",
    "Rosie",
    "Imogen",
    "Eleanor",
    "Niamh",
    "Siobhan",
    "Rhys",
    "Callum",
    "Ewan",
    "Fraser",
    "Dylan",
    "Aidan",
    "Kieran",
    "Ravi",
    "Arjun",
    "Hamza",
    "Yusuf",
    "Tomasz",
    "Piotr",
    "Anya",
)
_LAST_NAMES: Final = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "Mitchell",
    "Rose",
    "Davis",
    "Rodriguez",
    "Cox",
    "Alexander",
    "Morgan",
    "Moore",
    "Mills",
    "King",
    "Turner",
    "Harris",
    "Cooper",
    "Ward",
    "Baker",
    "Hughes",
    "Edwards",
    "Hill",
    "Moss",
    "Campbell",
    "Kelly",
    "Murphy",
    "Begum",
    "Ali",
    "Hussain",
    "Shah",
    "Singh",
    "Kaur",
    "Nowak",
    "Kowalski",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "O'Brien",
    "MacDonald",
    "Fraser",
    "Stewart",
    "Reid",
    "Murray",
    "Lloyd",
    "Price",
    "Bennett",
    "Gray",
    "Fox",
    "Parker",
    "Chapman",
    "Marshall",
    "Owen",
    "Hunt",
    "Knight",
    "Russell",
    "Webb",
    "Palmer",
    "Holmes",
)
_CITIES: Final = (
    "London",
    "Manchester",
    "Birmingham",
    "Leeds",
    "Glasgow",
    "Edinburgh",
    "Bristol",
    "Liverpool",
    "Sheffield",
    "Cardiff",
    "Belfast",
    "Newcastle",
    "Nottingham",
    "Leicester",
    "Brighton",
    "Southampton",
    "Oxford",
    "Cambridge",
    "York",
    "Aberdeen",
    "Norwich",
    "Bath",
)
_EMAIL_DOMAINS: Final = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "inbox.example.org",
    "post.example.net",
)
_WORK_DOMAINS: Final = (
    "acme.example.com",
    "globex.example.net",
    "initech.example.org",
    "umbrella.example.com",
)
_PRODUCTS: Final = (
    ("SKU-1001", "Trail Running Shoes", 89.99),
    ("SKU-1002", "Waterproof Jacket", 129.00),
    ("SKU-1003", "Merino Socks", 14.50),
    ("SKU-1004", "Daypack 20L", 45.00),
    ("SKU-1005", "Head Torch", 24.99),
    ("SKU-1006", "Insulated Bottle", 19.95),
    ("SKU-1007", "Fleece Hoodie", 55.00),
    ("SKU-1008", "Walking Poles", 39.99),
    ("SKU-1009", "Sun Hat", 16.00),
    ("SKU-1010", "Camping Stove", 64.50),
    ("SKU-1011", "Sleeping Mat", 49.00),
    ("SKU-1012", "Gaiters", 22.00),
)
_PAGES: Final = (
    ("/", "Home"),
    ("/c/footwear", "Footwear"),
    ("/c/jackets", "Jackets"),
    ("/c/camping", "Camping"),
    ("/search", "Search"),
    ("/basket", "Basket"),
    ("/account", "Account"),
    ("/stores", "Store Finder"),
    ("/offers", "Offers"),
)
_SCREENS: Final = ("Home", "Category", "Product", "Search", "Basket", "Account", "Offers")
_STORES: Final = ("ST001", "ST002", "ST003", "ST004", "ST005", "ST006", "ST007", "ST008")
_USER_AGENTS: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
_ANDROID_MODELS: Final = (("Google", "Pixel 8"), ("samsung", "SM-S911B"), ("OnePlus", "CPH2449"))
_WEB_LIBRARY: Final[dict[str, object]] = {"name": "analytics.js", "version": "2.11.1"}
_SERVER_CONTEXT: Final[dict[str, object]] = {
    "library": {"name": "analytics-python", "version": "2.3.0"}
}
_KIOSK_CONTEXT: Final[dict[str, object]] = {
    "library": {"name": "analytics.js", "version": "2.11.1"},
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) KioskBrowser/3.1",
}

CRM_COLUMNS: Final = (
    "customer_id",
    "email",
    "work_email",
    "phone",
    "first_name",
    "last_name",
    "city",
    "updated_at",
)
POS_COLUMNS: Final = ("receipt_id", "loyalty_id", "phone", "amount", "store", "purchased_at")
TRUTH_COLUMNS: Final = ("identifier_type", "identifier_value", "person_id", "linkable")

CRM_MAPPING: Final = """\
# CRM export: one row per customer.
[source]
trust = 0.9          # 0..1, multiplies link weights from this source
priority = 20        # survivorship priority: higher wins under source_priority

[record]
key_column = "customer_id"
key_type = "crm_id"
timestamp_column = "updated_at"

[identifiers]        # column = identifier type
email = "email"
work_email = "email"
phone = "phone"

[attributes]         # column = attribute name
first_name = "first_name"
last_name = "last_name"
city = "city"
"""

POS_MAPPING: Final = """\
# Store till transactions: one row per receipt.
[source]
trust = 0.8          # 0..1, multiplies link weights from this source
priority = 10        # survivorship priority: higher wins under source_priority

[record]
key_column = "receipt_id"
key_type = "receipt_id"
timestamp_column = "purchased_at"

[identifiers]        # column = identifier type
loyalty_id = "loyalty_id"
phone = "phone"

[attributes]         # column = attribute name
store = "last_store"
"""


@dataclass(frozen=True)
class NoiseRates:
    """Population shares and noise rates; every float is a probability in [0, 1]."""

    registered: float = 0.85  # persons with a user_id (the others never log in)
    crm: float = 0.70  # persons with a CRM row
    pos: float = 0.40  # persons with a loyalty card and till transactions
    phone: float = 0.85  # persons with a mobile number
    app: float = 0.55  # persons using the mobile app (1-2 devices)
    household: float = 0.20  # persons living in a household of 2-4
    work_email: float = 0.03  # persons with a second (work) email
    kiosk_persons: int = 30  # persons who log in on the public kiosk
    web_login: float = 0.35  # chance a web session on a not-logged-in cookie logs in
    app_login: float = 0.60  # chance an app session on a not-logged-in device logs in
    placeholder_email: float = 0.02
    placeholder_phone: float = 0.03
    invalid_email: float = 0.002  # syntactically invalid email in an identify or CRM row
    email_case: float = 0.5  # email written with changed letter case
    email_whitespace: float = 0.1  # email written with surrounding whitespace
    malformed_event: float = 0.005  # truncated JSON lines
    bad_csv_row: float = 0.005  # CSV rows with wrong column count or a missing record key

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "kiosk_persons":
                if value < 0:
                    raise ValueError("kiosk_persons must be >= 0")
            elif not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be in [0, 1], got {value!r}")


@dataclass(frozen=True)
class GenerateSummary:
    """What `generate` wrote.

    ``events``, ``crm_rows`` and ``pos_rows`` count every data line of their file, malformed
    ones included; ``malformed`` counts the bad units among them (truncated JSON lines, CSV rows
    with a wrong column count or no record key, and events or CRM rows whose email is
    syntactically invalid: those are otherwise valid). ``malformed_by_kind`` breaks it down.
    """

    persons: int
    events: int
    crm_rows: int
    pos_rows: int
    malformed: int
    files: dict[str, Path]
    malformed_by_kind: dict[str, int] = field(default_factory=dict)
    truth_rows: int = 0
    linkable_rows: int = 0


class _Browser:
    __slots__ = ("cookie", "slot", "logged_in", "churn_at", "context")

    def __init__(self, context: dict[str, object]) -> None:
        self.cookie = ""
        self.slot = -1
        self.logged_in = False
        self.churn_at = 0
        self.context = context  # shared between browsers with the same user agent


class _Device:
    __slots__ = ("device_id", "device_slot", "anon", "anon_slot", "logged_in", "context", "tablet")

    def __init__(self, device_id: str, anon: str, context: dict[str, object], tablet: bool) -> None:
        self.tablet = tablet
        self.device_id = device_id
        self.device_slot = -1
        self.anon = anon
        self.anon_slot = -1
        self.logged_in = False
        self.context = context


class _Person:
    """One true person: static attributes, channel state, and its identifiers.

    Identifiers live in parallel lists indexed by a per-person slot, with a union-find over
    co-observation and a `seen` flag (an identifier is only written to truth once a valid
    observation contained it).
    """

    __slots__ = (
        "idx",
        "pid",
        "first",
        "last",
        "city",
        "email",
        "work_email",
        "work_in_crm",
        "phone",
        "user_id",
        "browsers",
        "devices",
        "aliased",
        "types",
        "values",
        "parent",
        "seen",
        "s_user",
        "s_email",
        "s_work",
        "s_phone",
        "s_crm",
        "s_loyalty",
        "loyalty_id",
        "crm_id",
    )

    def __init__(self, idx: int, first: str, last: str, city: str) -> None:
        self.idx = idx
        self.pid = f"P{idx:06d}"
        self.first = first
        self.last = last
        self.city = city
        self.email = ""
        self.work_email = ""
        self.work_in_crm = False
        self.phone = ""  # national significant number, 10 digits, "" when none
        self.user_id = ""
        self.crm_id = ""
        self.loyalty_id = ""
        self.browsers: list[_Browser] = []
        self.devices: list[_Device] = []
        self.aliased = False
        self.types: list[str] = []
        self.values: list[str] = []
        self.parent: list[int] = []
        self.seen = bytearray()
        self.s_user = self.s_email = self.s_work = self.s_phone = -1
        self.s_crm = self.s_loyalty = -1

    def add(self, typ: str, value: str) -> int:
        slot = len(self.values)
        self.types.append(typ)
        self.values.append(value)
        self.parent.append(slot)
        self.seen.append(0)
        return slot

    def find(self, slot: int) -> int:
        parent = self.parent
        while parent[slot] != slot:
            parent[slot] = parent[parent[slot]]
            slot = parent[slot]
        return slot

    def observe(self, slots: list[int]) -> None:
        """Record one valid observation containing these identifiers of this person."""
        if not slots:
            return
        seen = self.seen
        root = self.find(slots[0])
        seen[slots[0]] = 1
        for slot in slots[1:]:
            seen[slot] = 1
            other = self.find(slot)
            if other != root:
                self.parent[other] = root

    def truth_rows(self) -> list[tuple[str, str, str, int]]:
        """Rows for truth.csv; `linkable` marks the main co-observation component.

        Components rank by (identifiers other than receipt ids, holds the user_id, size); the
        best one is the main component if it has at least two identifiers. Receipt ids are
        discounted because one loyalty card with many receipts says less than an account.
        """
        seen_slots = [s for s in range(len(self.values)) if self.seen[s]]
        if not seen_slots:
            return []
        user_root = self.find(self.s_user) if self.s_user >= 0 and self.seen[self.s_user] else -1
        stats: dict[int, list[int]] = {}  # root -> [non-receipt count, size]
        for s in seen_slots:
            counts = stats.setdefault(self.find(s), [0, 0])
            counts[0] += self.types[s] != T_RECEIPT
            counts[1] += 1
        best_root = -1
        best_key = (-1, False, 0)
        for r, (strong, size) in stats.items():
            key = (strong, r == user_root, size)
            if key > best_key:
                best_key, best_root = key, r
        main = best_root if best_key[2] >= 2 else -2
        return [
            (self.types[s], self.values[s], self.pid, 1 if self.find(s) == main else 0)
            for s in seen_slots
        ]


def generate(
    persons: int,
    seed: int,
    out_dir: Path,
    *,
    start: datetime | None = None,
    rates: NoiseRates | None = None,
) -> GenerateSummary:
    """Write sample events, CRM and POS files with their ground truth into `out_dir`.

    `start` is the beginning of the ~90-day activity window (default 2026-01-01T00:00:00Z; a
    naive datetime is taken as UTC). Same arguments, same bytes.
    """
    if persons < 0:
        raise ValueError("persons must be >= 0")
    if start is None:
        start = DEFAULT_START
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    else:
        start = start.astimezone(UTC)
    return _Generator(persons, seed, Path(out_dir), start, rates or NoiseRates()).run()


class _Generator:
    def __init__(
        self, persons: int, seed: int, out_dir: Path, start: datetime, rates: NoiseRates
    ) -> None:
        self.n = persons
        self.rng = Random(seed)
        self.out_dir = out_dir
        self.start = start
        self.rates = rates
        self.persons: list[_Person] = []
        self.malformed: dict[str, int] = {
            "events_truncated": 0,
            "events_invalid_email": 0,
            "crm_wrong_columns": 0,
            "crm_missing_key": 0,
            "crm_invalid_email": 0,
            "pos_wrong_columns": 0,
            "pos_missing_key": 0,
        }
        self.kiosk_seen = False
        self.events = 0
        self.order_seq = 0
        self.encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
        self.files = {
            "events": out_dir / "events.jsonl",
            "crm": out_dir / "crm.csv",
            "crm_mapping": out_dir / "crm.mapping.toml",
            "pos": out_dir / "pos.csv",
            "pos_mapping": out_dir / "pos.mapping.toml",
            "truth": out_dir / "truth.csv",
        }
        # (time, person index, kind) of scheduled special sessions
        self.special: list[tuple[int, int, int, int]] = []
        self.tablet_owner: dict[int, int] = {}  # guest person index -> owner person index

    # ----------------------------------------------------------------- helpers

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"

    def ts(self, ms: int) -> str:
        dt = self.start + timedelta(milliseconds=ms)
        return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"

    def ts_seconds(self, ms: int) -> str:
        dt = self.start + timedelta(milliseconds=ms)
        return f"{dt:%Y-%m-%dT%H:%M:%S}Z"

    def noisy_email(self, email: str) -> str:
        rng = self.rng
        if rng.random() < self.rates.email_case:
            r = rng.random()
            if r < 0.5:
                local, _, domain = email.partition("@")
                parts = ".".join(part.capitalize() for part in local.split("."))
                email = f"{parts}@{domain.capitalize()}"
            elif r < 0.7:
                email = email.upper()
            else:
                email = "".join(c.upper() if rng.random() < 0.3 else c for c in email)
        if rng.random() < self.rates.email_whitespace:
            email = rng.choice((" ", "  ", "\t", "")) + email + rng.choice((" ", "  ", " \t"))
        return email

    def corrupt_email(self, email: str) -> str:
        if self.rng.random() < 0.7:
            return email.replace("@", "@@", 1)
        return email.replace("@", ".", 1)

    def email_field(self, p: _Person, work: bool = False) -> tuple[str, int, int]:
        """(text, slot or -1, invalid count) for an email field showing `p`'s email."""
        rng = self.rng
        email, slot = (p.work_email, p.s_work) if work else (p.email, p.s_email)
        r = rng.random()
        if r < self.rates.placeholder_email:
            return rng.choice(EMAIL_PLACEHOLDERS), -1, 0
        if r < self.rates.placeholder_email + self.rates.invalid_email:
            return self.corrupt_email(email), -1, 1
        return self.noisy_email(email), slot, 0

    def phone_text(self, nsn: str) -> str:
        r = self.rng.randrange(12)
        if r < 3:
            return f"0{nsn[:4]} {nsn[4:]}"
        if r < 5:
            return f"+44 {nsn[:4]} {nsn[4:]}"
        if r < 7:
            return f"0{nsn}"
        if r == 7:
            return f"(0){nsn[:4]}-{nsn[4:7]}-{nsn[7:]}"
        if r == 8:
            return f"+44{nsn}"
        if r == 9:
            return f"+44 (0){nsn[:4]} {nsn[4:]}"
        if r == 10:
            return f"0044 {nsn[:4]} {nsn[4:]}"
        return f"0{nsn[:4]}.{nsn[4:7]}.{nsn[7:]}"

    def phone_field(self, p: _Person) -> tuple[str, int]:
        if self.rng.random() < self.rates.placeholder_phone:
            return self.rng.choice(PHONE_PLACEHOLDERS), -1
        return self.phone_text(p.phone), p.s_phone

    # ----------------------------------------------------------------- population

    def build_persons(self) -> None:
        rng, rates = self.rng, self.rates
        web_contexts: list[dict[str, object]] = [
            {"library": _WEB_LIBRARY, "userAgent": ua} for ua in _USER_AGENTS
        ]
        for idx in range(1, self.n + 1):
            self.persons.append(
                _Person(idx, rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES), rng.choice(_CITIES))
            )
        self.build_households()
        used_emails: set[str] = set()
        phone_offset = rng.randrange(_PHONE_BLOCK)
        phone_count = 0
        user_count = 0
        loyalty_count = 0
        for p in self.persons:
            p.email = self.make_email(p, used_emails, rng.choice(_EMAIL_DOMAINS))
            p.s_email = p.add(T_EMAIL, p.email)
            if rng.random() < rates.work_email:
                p.work_email = self.make_email(p, used_emails, rng.choice(_WORK_DOMAINS))
                p.s_work = p.add(T_EMAIL, p.work_email)
            if rng.random() < rates.phone:
                block, k = divmod(phone_count, _PHONE_BLOCK)
                if block >= len(_PHONE_PREFIXES):
                    raise ValueError("too many persons for the generator's phone ranges")
                sub = (k * _PHONE_STRIDE + phone_offset) % _PHONE_BLOCK
                p.phone = f"{_PHONE_PREFIXES[block]}{sub:06d}"
                p.s_phone = p.add(T_PHONE, f"+44{p.phone}")
                phone_count += 1
            if rng.random() < rates.registered:
                user_count += 1
                p.user_id = f"u_{user_count:06d}"
                p.s_user = p.add(T_USER, p.user_id)
            if rng.random() < rates.pos:
                loyalty_count += 1
                p.loyalty_id = f"L{loyalty_count:08d}"
                p.s_loyalty = p.add(T_LOYALTY, p.loyalty_id)
            for _ in range(rng.choices((1, 2, 3), (50, 35, 15))[0]):
                p.browsers.append(_Browser(rng.choice(web_contexts)))
            if rng.random() < rates.app:
                for _ in range(rng.choices((1, 2), (70, 30))[0]):
                    p.devices.append(self.make_device(rng.random() < 0.55, tablet=False))

    def make_email(self, p: _Person, used: set[str], domain: str) -> str:
        rng = self.rng
        first = p.first.lower()
        last = "".join(c for c in p.last.lower() if c.isalpha())
        style = rng.randrange(4)
        if style == 0:
            local = f"{first}.{last}"
        elif style == 1:
            local = f"{first[0]}{last}"
        elif style == 2:
            local = f"{first}{last}"
        else:
            local = f"{first}_{last[0]}"
        email = f"{local}@{domain}"
        while email in used:
            email = f"{local}{rng.randrange(1, 10_000)}@{domain}"
        used.add(email)
        return email

    def make_device(self, ios: bool, *, tablet: bool) -> _Device:
        rng = self.rng
        if tablet:
            device_id = self.uuid().upper()
            ctx: dict[str, object] = {
                "library": {"name": "analytics-ios", "version": "4.1.8"},
                "device": {
                    "id": device_id,
                    "manufacturer": "Apple",
                    "model": "iPad13,1",
                    "type": "ios",
                },
                "app": {"name": "TrailShop", "version": "5.2.0", "build": "520"},
                "os": {"name": "iPadOS", "version": "17.2"},
            }
        elif ios:
            device_id = self.uuid().upper()
            ctx = {
                "library": {"name": "analytics-ios", "version": "4.1.8"},
                "device": {
                    "id": device_id,
                    "manufacturer": "Apple",
                    "model": rng.choice(("iPhone14,2", "iPhone15,3", "iPhone16,1")),
                    "type": "ios",
                },
                "app": {"name": "TrailShop", "version": "5.2.0", "build": "520"},
                "os": {"name": "iOS", "version": rng.choice(("16.7", "17.2", "17.4"))},
            }
        else:
            device_id = f"{rng.getrandbits(64):016x}"
            maker, model = rng.choice(_ANDROID_MODELS)
            ctx = {
                "library": {"name": "analytics-android", "version": "4.11.3"},
                "device": {
                    "id": device_id,
                    "manufacturer": maker,
                    "model": model,
                    "type": "android",
                },
                "app": {"name": "TrailShop", "version": "5.2.0", "build": "520"},
                "os": {"name": "Android", "version": rng.choice(("13", "14"))},
            }
        return _Device(device_id, self.uuid(), ctx, tablet)

    def build_households(self) -> None:
        rng = self.rng
        members = rng.sample(range(self.n), round(self.n * self.rates.household))
        groups: list[list[int]] = []
        i = 0
        while i < len(members):
            size = rng.randint(2, 4)
            group = members[i : i + size]
            i += size
            if len(group) >= 2:
                groups.append(group)
        for group in groups:
            head = self.persons[group[0]]
            for m in group[1:]:
                p = self.persons[m]
                p.city = head.city
                if rng.random() < 0.7:
                    p.last = head.last
        self.households = groups

    def plan_specials(self) -> None:
        """Household tablets and the public kiosk (needs user ids, so after build_persons)."""
        rng = self.rng
        for group in self.households:
            owners = [m for m in group if self.persons[m].user_id]
            if not owners:
                continue
            owner = self.persons[owners[0]]
            tablet = self.make_device(True, tablet=True)
            owner.devices.append(tablet)
            first = rng.randrange(20 * _DAY)
            # kind 2: the owner's tablet sessions; the first one logs in
            self.special.append((first, owner.idx - 1, 2, len(owner.devices) - 1))
            for _ in range(rng.randint(0, 3)):
                t = first + _MINUTE + rng.randrange(_WINDOW_MS - first - _MINUTE)
                self.special.append((t, owner.idx - 1, 2, len(owner.devices) - 1))
            for m in group:
                if m == owners[0]:
                    continue
                self.tablet_owner[m] = owner.idx - 1
                for _ in range(rng.randint(1, 2)):
                    t = first + _MINUTE + rng.randrange(_WINDOW_MS - first - _MINUTE)
                    self.special.append((t, m, 3, len(owner.devices) - 1))
        registered = [p.idx - 1 for p in self.persons if p.user_id]
        for m in rng.sample(registered, min(self.rates.kiosk_persons, len(registered))):
            self.special.append((rng.randrange(_WINDOW_MS), m, 1, 0))

    # ----------------------------------------------------------------- events

    def emit(
        self,
        out: TextIO,
        owner: _Person | None,
        event: dict[str, object],
        slots: list[int],
        *,
        kiosk: bool = False,
        invalid: int = 0,
    ) -> None:
        line = self.encoder.encode(event)
        self.events += 1
        if self.rng.random() < self.rates.malformed_event:
            cut = self.rng.randint(max(1, len(line) // 4), max(1, len(line) * 3 // 4))
            out.write(line[:cut] + "\n")
            self.malformed["events_truncated"] += 1
            return
        out.write(line + "\n")
        self.malformed["events_invalid_email"] += invalid
        if owner is not None:
            owner.observe(slots)
        if kiosk:
            self.kiosk_seen = True

    def base(
        self, typ: str, t: int, anon: str | None, user: str | None, ctx: dict[str, object]
    ) -> dict[str, object]:
        ev: dict[str, object] = {"type": typ, "messageId": self.uuid(), "timestamp": self.ts(t)}
        if anon is not None:
            ev["anonymousId"] = anon
        if user is not None:
            ev["userId"] = user
        ev["context"] = ctx
        return ev

    def identify_traits(self, p: _Person, work: bool) -> tuple[dict[str, object], list[int], int]:
        traits: dict[str, object] = {}
        slots: list[int] = []
        text, slot, invalid = self.email_field(p, work)
        traits["email"] = text
        if slot >= 0:
            slots.append(slot)
        if p.phone and self.rng.random() < 0.5:
            ptext, pslot = self.phone_field(p)
            traits["phone"] = ptext
            if pslot >= 0:
                slots.append(pslot)
        traits["first_name"] = p.first
        traits["last_name"] = p.last
        traits["city"] = p.city
        if work:
            traits["company"] = p.work_email.partition("@")[2].split(".")[0].capitalize()
        return traits, slots, invalid

    def login(
        self,
        out: TextIO,
        p: _Person,
        t: int,
        anon: str,
        anon_slot: int,
        extra: list[int],
        ctx: dict[str, object],
    ) -> int:
        """Alias (first login only, sometimes), identify and maybe group; returns new time."""
        rng = self.rng
        base_slots = [anon_slot, *extra]
        if not p.aliased and rng.random() < 0.5:
            ev = self.base("alias", t, anon, p.user_id, ctx)
            ev["previousId"] = anon
            self.emit(out, p, ev, [*base_slots, p.s_user])
            t += rng.randint(1 * _SECOND, 3 * _SECOND)
        p.aliased = True
        work = bool(p.work_email) and not p.work_in_crm and rng.random() < 0.4
        traits, slots, invalid = self.identify_traits(p, work)
        ev = self.base("identify", t, anon, p.user_id, ctx)
        ev["traits"] = traits
        self.emit(out, p, ev, [*base_slots, p.s_user, *slots], invalid=invalid)
        if work and rng.random() < 0.5:
            t += rng.randint(1 * _SECOND, 5 * _SECOND)
            ev = self.base("group", t, anon, p.user_id, ctx)
            company = str(traits["company"])
            ev["groupId"] = f"acct_{company.lower()}"
            ev["traits"] = {"name": company, "plan": "business"}
            self.emit(out, p, ev, [*base_slots, p.s_user])
        return t + rng.randint(2 * _SECOND, 30 * _SECOND)

    def browse(
        self,
        out: TextIO,
        p: _Person,
        t: int,
        anon: str,
        user: str | None,
        ident: list[int],
        ctx: dict[str, object],
        app: bool,
    ) -> int:
        """Page/screen views, product views and maybe an order; returns the end time."""
        rng = self.rng
        for _ in range(rng.choices((0, 1, 2, 3), (30, 35, 25, 10))[0]):
            if app:
                ev = self.base("screen", t, anon, user, ctx)
                ev["name"] = rng.choice(_SCREENS)
                ev["properties"] = {}
            else:
                path, title = rng.choice(_PAGES)
                ev = self.base("page", t, anon, user, ctx)
                ev["name"] = title
                ev["properties"] = {
                    "path": path,
                    "url": f"https://shop.example.com{path}",
                    "title": title,
                }
            self.emit(out, p, ev, ident)
            t += rng.randint(5 * _SECOND, 180 * _SECOND)
        for _ in range(rng.choices((0, 1, 2), (45, 40, 15))[0]):
            sku, name, price = rng.choice(_PRODUCTS)
            ev = self.base("track", t, anon, user, ctx)
            ev["event"] = "Product Viewed"
            ev["properties"] = {"product_id": sku, "name": name, "price": price, "currency": "GBP"}
            self.emit(out, p, ev, ident)
            t += rng.randint(5 * _SECOND, 240 * _SECOND)
        if rng.random() < 0.15:
            t = self.order(out, p, t, anon, user, ident, ctx)
        return t

    def order(
        self,
        out: TextIO,
        p: _Person,
        t: int,
        anon: str,
        user: str | None,
        ident: list[int],
        ctx: dict[str, object],
    ) -> int:
        rng = self.rng
        self.order_seq += 1
        order_id = f"O{self.order_seq:08d}"
        items = []
        revenue = 0.0
        for sku, _name, price in rng.sample(_PRODUCTS, rng.randint(1, 3)):
            qty = rng.choices((1, 2, 3), (80, 15, 5))[0]
            items.append({"product_id": sku, "price": price, "quantity": qty})
            revenue += price * qty
        ev = self.base("track", t, anon, user, ctx)
        ev["event"] = "Order Completed"
        ev["properties"] = {
            "order_id": order_id,
            "revenue": round(revenue, 2),
            "currency": "GBP",
            "products": items,
        }
        slots = list(ident)
        invalid = 0
        if rng.random() < (0.4 if user else 0.8):  # checkout email (guest checkout if no user)
            text, slot, invalid = self.email_field(p)
            ev["context"] = {**ctx, "traits": {"email": text}}
            if slot >= 0:
                slots.append(slot)
        self.emit(out, p, ev, slots, invalid=invalid)
        if user and rng.random() < 0.5:  # server-side follow-up: userId only
            ship = t + rng.randint(1, 3) * _DAY + rng.randrange(_DAY)
            ev = self.base("track", ship, None, user, _SERVER_CONTEXT)
            ev["event"] = "Order Shipped"
            ev["properties"] = {"order_id": order_id, "carrier": rng.choice(("DPD", "Royal Mail"))}
            self.emit(out, p, ev, [p.s_user])
        return t + rng.randint(5 * _SECOND, 60 * _SECOND)

    def web_session(self, out: TextIO, p: _Person, t: int) -> None:
        rng = self.rng
        b = rng.choice(p.browsers)
        if b.slot < 0 or t >= b.churn_at:
            b.cookie = self.uuid()
            b.slot = p.add(T_ANON, b.cookie)
            b.logged_in = False
            b.churn_at = t + rng.randint(14, 42) * _DAY
        # landing page before any login
        path, title = rng.choice(_PAGES)
        user = p.user_id if b.logged_in else None
        ident = [b.slot, p.s_user] if user else [b.slot]
        ev = self.base("page", t, b.cookie, user, b.context)
        ev["name"] = title
        ev["properties"] = {"path": path, "url": f"https://shop.example.com{path}", "title": title}
        self.emit(out, p, ev, ident)
        t += rng.randint(5 * _SECOND, 120 * _SECOND)
        if not b.logged_in:
            if p.user_id and rng.random() < self.rates.web_login:
                t = self.login(out, p, t, b.cookie, b.slot, [], b.context)
                b.logged_in = True
                user = p.user_id
                ident = [b.slot, p.s_user]
            elif not p.user_id and rng.random() < 0.12:  # newsletter sign-up, no account
                text, slot, invalid = self.email_field(p)
                ev = self.base("identify", t, b.cookie, None, b.context)
                ev["traits"] = {"email": text, "newsletter": True}
                self.emit(out, p, ev, [b.slot, slot] if slot >= 0 else [b.slot], invalid=invalid)
                t += rng.randint(5 * _SECOND, 60 * _SECOND)
        self.browse(out, p, t, b.cookie, user, ident, b.context, app=False)

    def app_session(self, out: TextIO, p: _Person, t: int, d: _Device, force: bool) -> None:
        rng = self.rng
        if d.device_slot < 0:
            d.device_slot = p.add(T_DEVICE, d.device_id)
            d.anon_slot = p.add(T_ANON, d.anon)
        ident = [d.anon_slot, d.device_slot]
        if not d.logged_in and p.user_id and (force or rng.random() < self.rates.app_login):
            t = self.login(out, p, t, d.anon, d.anon_slot, [d.device_slot], d.context)
            d.logged_in = True
        user = p.user_id if d.logged_in else None
        if user:
            ident = [*ident, p.s_user]
        ev = self.base("screen", t, d.anon, user, d.context)
        ev["name"] = "Home"
        ev["properties"] = {}
        self.emit(out, p, ev, ident)
        t += rng.randint(3 * _SECOND, 60 * _SECOND)
        self.browse(out, p, t, d.anon, user, ident, d.context, app=True)

    def guest_tablet_session(self, out: TextIO, owner: _Person, t: int, d: _Device) -> None:
        """Another household member browsing the owner's tablet without logging in."""
        rng = self.rng
        if d.device_slot < 0:  # cannot happen (owner's first session is earlier), kept safe
            d.device_slot = owner.add(T_DEVICE, d.device_id)
            d.anon_slot = owner.add(T_ANON, d.anon)
        for _ in range(rng.randint(1, 3)):
            ev = self.base("screen", t, d.anon, None, d.context)
            ev["name"] = rng.choice(_SCREENS)
            ev["properties"] = {}
            self.emit(out, owner, ev, [d.anon_slot, d.device_slot])
            t += rng.randint(5 * _SECOND, 120 * _SECOND)

    def kiosk_session(self, out: TextIO, p: _Person, t: int) -> None:
        rng = self.rng
        traits, slots, invalid = self.identify_traits(p, False)
        ev = self.base("identify", t, KIOSK_ANONYMOUS_ID, p.user_id, _KIOSK_CONTEXT)
        ev["traits"] = traits
        self.emit(out, p, ev, [p.s_user, *slots], kiosk=True, invalid=invalid)
        t += rng.randint(5 * _SECOND, 60 * _SECOND)
        ev = self.base("page", t, KIOSK_ANONYMOUS_ID, p.user_id, _KIOSK_CONTEXT)
        ev["name"] = "Store Finder"
        ev["properties"] = {
            "path": "/stores",
            "url": "https://shop.example.com/stores",
            "title": "Store Finder",
        }
        self.emit(out, p, ev, [p.s_user], kiosk=True)

    def write_events(self) -> None:
        rng = self.rng
        sessions: list[tuple[int, int, int, int]] = []
        for i in range(self.n):
            for _ in range(1 + min(14, int(rng.expovariate(1 / 2.2)))):
                sessions.append((rng.randrange(_WINDOW_MS), i, 0, 0))
        sessions.extend(self.special)
        sessions.sort()
        with self.files["events"].open("w", encoding="utf-8", newline="\n") as out:
            for t, i, kind, arg in sessions:
                p = self.persons[i]
                if kind == 0:
                    own = [d for d in p.devices if not d.tablet]
                    if own and rng.random() < 0.4:
                        self.app_session(out, p, t, rng.choice(own), False)
                    else:
                        self.web_session(out, p, t)
                elif kind == 1:
                    self.kiosk_session(out, p, t)
                elif kind == 2:
                    self.app_session(out, p, t, p.devices[arg], True)
                else:
                    owner = self.persons[self.tablet_owner[i]]
                    self.guest_tablet_session(out, owner, t, owner.devices[arg])

    # ----------------------------------------------------------------- CSV sources

    def bad_rows(self, rows: int, kinds: tuple[str, ...]) -> dict[int, str]:
        if rows < 20 or self.rates.bad_csv_row == 0:
            return {}
        count = min(rows, max(len(kinds), round(rows * self.rates.bad_csv_row)))
        chosen = sorted(self.rng.sample(range(rows), count))
        return {row: kinds[k % len(kinds)] for k, row in enumerate(chosen)}

    def write_crm(self) -> int:
        rng = self.rng
        members = [p for p in self.persons if rng.random() < self.rates.crm]
        rng.shuffle(members)
        bad = self.bad_rows(len(members), ("wrong_columns", "missing_key", "invalid_email"))
        with self.files["crm"].open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(CRM_COLUMNS)
            for n, p in enumerate(members, start=1):
                p.crm_id = f"C{n:06d}"
                kind = bad.get(n - 1)
                slots: list[int] = []
                if kind == "invalid_email":
                    email, invalid = self.corrupt_email(p.email), 1
                else:
                    email, slot, invalid = self.email_field(p)
                    if slot >= 0:
                        slots.append(slot)
                work = ""
                if p.work_email and rng.random() < 0.5:
                    p.work_in_crm = True
                    work = self.noisy_email(p.work_email)
                    slots.append(p.s_work)
                phone = ""
                if p.phone:
                    phone, pslot = self.phone_field(p)
                    if pslot >= 0:
                        slots.append(pslot)
                last = p.last.upper() if rng.random() < 0.05 else p.last
                updated = self.ts_seconds(rng.randrange(_WINDOW_MS))
                row = [p.crm_id, email, work, phone, p.first, last, p.city, updated]
                if kind == "wrong_columns":
                    row = row[:-2] if rng.random() < 0.5 else [*row, "unexpected"]
                    self.malformed["crm_wrong_columns"] += 1
                elif kind == "missing_key":
                    row[0] = ""
                    self.malformed["crm_missing_key"] += 1
                else:
                    p.s_crm = p.add(T_CRM, p.crm_id)
                    p.observe([p.s_crm, *slots])
                    if kind == "invalid_email" or invalid:
                        self.malformed["crm_invalid_email"] += 1
                w.writerow(row)
        return len(members)

    def write_pos(self) -> int:
        rng = self.rng
        txns: list[tuple[int, int]] = []
        for i, p in enumerate(self.persons):
            if p.loyalty_id:
                for _ in range(1 + min(9, int(rng.expovariate(1 / 1.3)))):
                    txns.append((rng.randrange(_WINDOW_MS) // _SECOND * _SECOND, i))
        txns.sort()
        bad = self.bad_rows(len(txns), ("wrong_columns", "missing_key"))
        with self.files["pos"].open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(POS_COLUMNS)
            for n, (t, i) in enumerate(txns):
                p = self.persons[i]
                store = rng.choice(_STORES)
                receipt = f"R{store[2:]}-{n + 1:07d}"
                slots: list[int] = []
                loyalty = ""
                phone = ""
                show_phone = bool(p.phone) and rng.random() < 0.6
                if rng.random() < 0.85 or not show_phone:
                    loyalty = p.loyalty_id
                    slots.append(p.s_loyalty)
                if show_phone:
                    phone, pslot = self.phone_field(p)
                    if pslot >= 0:
                        slots.append(pslot)
                amount = f"{rng.randint(150, 25_000) / 100:.2f}"
                row = [receipt, loyalty, phone, amount, store, self.ts_seconds(t)]
                kind = bad.get(n)
                if kind == "wrong_columns":
                    row = row[:-1] if rng.random() < 0.5 else [*row, "", "x"]
                    self.malformed["pos_wrong_columns"] += 1
                elif kind == "missing_key":
                    row[0] = ""
                    self.malformed["pos_missing_key"] += 1
                else:
                    p.observe([p.add(T_RECEIPT, receipt), *slots])
                w.writerow(row)
        return len(txns)

    # ----------------------------------------------------------------- truth

    def write_truth(self) -> tuple[int, int]:
        rows = linkable = 0
        with self.files["truth"].open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(TRUTH_COLUMNS)
            for p in self.persons:
                for row in p.truth_rows():
                    w.writerow(row)
                    rows += 1
                    linkable += row[3]
            if self.kiosk_seen:
                w.writerow((T_ANON, KIOSK_ANONYMOUS_ID, PUBLIC_PERSON, 0))
                rows += 1
        return rows, linkable

    def run(self) -> GenerateSummary:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.build_persons()
        self.plan_specials()
        crm_rows = self.write_crm()
        pos_rows = self.write_pos()
        self.write_events()
        truth_rows, linkable_rows = self.write_truth()
        self.files["crm_mapping"].write_text(CRM_MAPPING, encoding="utf-8")
        self.files["pos_mapping"].write_text(POS_MAPPING, encoding="utf-8")
        return GenerateSummary(
            persons=self.n,
            events=self.events,
            crm_rows=crm_rows,
            pos_rows=pos_rows,
            malformed=sum(self.malformed.values()),
            files=dict(self.files),
            malformed_by_kind=dict(self.malformed),
            truth_rows=truth_rows,
            linkable_rows=linkable_rows,
        )
