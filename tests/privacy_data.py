"""Shared sample people for the segment, consent and erasure tests (CLI and API)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from identity_graph.models import Observation


def ev(mid: str, when: str, kind: str = "identify", **fields: Any) -> dict[str, Any]:
    return {"type": kind, "messageId": mid, "timestamp": when, **fields}


def prefs(**purposes: bool) -> dict[str, Any]:
    return {"consent": {"categoryPreferences": purposes}}


ANN_EMAIL = "ann.erasable@example.com"
ANN_PHONE = "+447400123456"

EVENTS = [
    ev(
        "m1",
        "2026-01-05T10:00:00Z",
        userId="u-ann",
        anonymousId="cookie-ann-7f3a",
        traits={
            "email": ANN_EMAIL,
            "phone": "07400 123456",
            "first_name": "Annabel",
            "country": "GB",
            "age": "34",
        },
        context=prefs(email_marketing=True, sms=False),
    ),
    ev(
        "m2",
        "2026-01-06T10:00:00Z",
        "track",
        anonymousId="cookie-ann-7f3a",
        event="Order Completed",
        properties={"revenue": 60},
    ),
    ev(
        "m3",
        "2026-01-20T10:00:00Z",
        "track",
        userId="u-ann",
        event="Order Completed",
        properties={"revenue": 50},
    ),
    ev(
        "m4",
        "2026-01-07T10:00:00Z",
        userId="u-bob",
        traits={"email": "bob@example.com", "first_name": "Bob", "country": "FR"},
        context=prefs(email_marketing=False),
    ),
    ev(
        "m5",
        "2026-01-08T10:00:00Z",
        "track",
        userId="u-bob",
        event="Order Completed",
        properties={"revenue": 500},
    ),
    ev(
        "m6",
        "2026-01-09T10:00:00Z",
        userId="u-cara",
        traits={"email": "cara@example.com", "country": "GB"},
        context=prefs(email_marketing=True),
    ),
    ev(
        "m7",
        "2026-01-25T10:00:00Z",
        anonymousId="cookie-cara",
        traits={"email": "cara@example.com"},
        context=prefs(email_marketing=False),
    ),
    ev("m8", "2026-01-10T10:00:00Z", "page", anonymousId="cookie-dan", name="Home"),
]

# u-1 - cookie - email - phone: the email is the only bridge to the phone.
BRIDGE_EVENTS = [
    ev("e1", "2026-01-01T10:00:00Z", userId="u-1", anonymousId="cookie-9b2c"),
    ev(
        "e2",
        "2026-01-02T10:00:00Z",
        "track",
        anonymousId="cookie-9b2c",
        event="Order Completed",
        properties={"revenue": 30, "contact": "old.me@example.com"},
        context={"traits": {"email": "old.me@example.com"}},
    ),
    ev(
        "e3",
        "2026-01-03T10:00:00Z",
        traits={"email": "old.me@example.com", "phone": "07400 555111", "city": "Leeds"},
    ),
]


def write_events(path: Path, events: list[dict[str, Any]] | None = None) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events or EVENTS), encoding="utf-8")
    return path


def store_bytes(db: Path) -> bytes:
    """The database file and its WAL (if any), as they are on disk."""
    data = db.read_bytes()
    wal = db.with_name(db.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def obs(key: str, when: datetime, **consent: bool) -> Observation:
    """An observation of one e-mail address at `when`, for the suppression cases."""
    return Observation(
        "web",
        f"r-{key}-{when.isoformat()}",
        when,
        (("email", key),),
        consent=consent,
        file="f.jsonl",
        line=7,
    )
