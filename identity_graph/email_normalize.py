"""Email validation with a per-domain cache. Pure: no I/O.

`email_validator.validate_email` costs 30-40 µs per address, and most of that is spent on
the domain (per-character UTS-46/IDNA checks), which is the same for most addresses
(gmail.com, example.org, ...). For the common shape -- an all-ASCII address with one @-sign
and a plain dot-atom local part of at most 64 characters -- email-validator's result depends
only on the local part (returned as given, up to case) and on the domain, so each distinct domain
is validated once, by email-validator itself on a probe address, and the outcome is cached.
What remains per address is the address length checks email-validator applies (254 octets for
the address as given, after normalization, and with the IDNA ASCII domain). Anything else --
quoted or non-ASCII local parts, several @-signs, an invalid domain, a length over a limit --
goes to the full `validate_email` call, so its results and error messages are unchanged.

The cached domain outcomes reflect email-validator's module-level defaults
(`GLOBALLY_DELIVERABLE`, `TEST_ENVIRONMENT`, `SPECIAL_USE_DOMAIN_NAMES`) at the time a domain is
first seen; this project does not change them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

# RFC 5322 3.2.3 atext, as email-validator's DOT_ATOM_TEXT (rfc_constants.py): atoms separated
# by single dots, no leading, trailing or consecutive dot. ASCII only by construction.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")

# email-validator's LOCAL_PART_MAX_LENGTH (only enforced with strict=True; longer local parts
# take the full path, so the fast path does not depend on `strict`) and EMAIL_MAX_LENGTH.
_LOCAL_PART_MAX_LENGTH = 64
_EMAIL_MAX_LENGTH = 254

# A valid dot-atom local part for the probe address; it cannot change how the domain is read.
_PROBE_LOCAL_PART = "a"


@lru_cache(maxsize=65_536)
def _domain_outcome(domain_part: str) -> tuple[str, int] | None:
    """(lowercased normalized domain, longest local part that fits) or None if invalid.

    None also covers a probe that fails only on the address length; the caller then makes
    the full call, which gives the error (or result) for the real address.
    """
    try:
        checked = validate_email(f"{_PROBE_LOCAL_PART}@{domain_part}", check_deliverability=False)
    except EmailNotValidError:
        return None
    # validate_email_length checks, in UTF-8 octets: the address as given (local@domain_part),
    # the normalized address (local@domain) and the IDNA ASCII form (local@ascii_domain).
    longest_domain = max(
        len(domain_part.encode("utf-8")),
        len(checked.domain.encode("utf-8")),
        len(checked.ascii_domain.encode("utf-8")),
    )
    return checked.domain.lower(), _EMAIL_MAX_LENGTH - 1 - longest_domain


def email_parts(value: str) -> tuple[str, str]:
    """Lowercased (local part, domain) of `validate_email(value, check_deliverability=False)`.

    Raises email-validator's EmailNotValidError exactly as that call does.
    """
    if value.isascii() and value.count("@") == 1:
        local, _, domain_part = value.partition("@")
        if len(local) <= _LOCAL_PART_MAX_LENGTH and _DOT_ATOM.fullmatch(local):
            outcome = _domain_outcome(domain_part)
            if outcome is not None and len(local) <= outcome[1]:
                return local.lower(), outcome[0]
    return email_parts_reference(value)


def email_parts_reference(value: str) -> tuple[str, str]:
    """The same as `email_parts`, always through the full `validate_email` call."""
    checked = validate_email(value, check_deliverability=False)
    return checked.local_part.lower(), checked.domain.lower()
