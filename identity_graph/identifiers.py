"""Normalize and validate identifier values by type. Pure: no I/O.

`Normalizer.normalize(type, raw)` returns the normalized value, `None` for a placeholder
(a configured junk value that must never become an identifier), or raises `InvalidIdentifier`.
Results are cached: the same cookie or email shows up in hundreds of events.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError

from identity_graph.config import Config
from identity_graph.email_normalize import email_parts

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class InvalidIdentifier(ValueError):
    """A value that is not a valid identifier of its type."""


class Normalizer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._placeholders = config.placeholders
        self._cached = lru_cache(maxsize=262_144)(self._normalize_uncached)

    def normalize(self, id_type: str, raw: object) -> str | None:
        if raw is None:
            return None
        text = raw if isinstance(raw, str) else str(raw)
        return self._cached(id_type, text)

    def _normalize_uncached(self, id_type: str, text: str) -> str | None:
        value = text.strip()
        if value.lower() in self._placeholders:
            return None
        if len(value) > self.config.max_value_length:
            raise InvalidIdentifier(
                f"value is {len(value)} characters, over the limit of "
                f"{self.config.max_value_length}"
            )
        kind = self.config.type(id_type).kind
        if kind == "email":
            result = normalize_email(value, fold_gmail=self.config.fold_gmail)
        elif kind == "phone":
            result = normalize_phone(value, self.config.default_region)
        else:
            result = normalize_id(value)
        if result.lower() in self._placeholders:
            return None
        return result


def normalize_email(value: str, *, fold_gmail: bool = False) -> str:
    try:
        local, domain = email_parts(value)
    except EmailNotValidError as e:
        raise InvalidIdentifier(f"invalid email: {e}") from e
    if fold_gmail and domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def normalize_phone(value: str, default_region: str) -> str:
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as e:
        raise InvalidIdentifier(f"invalid phone number: {e}") from e
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidIdentifier("invalid phone number: not a valid number for its region")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_id(value: str) -> str:
    if not value.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise InvalidIdentifier("id contains control characters")
    return value
