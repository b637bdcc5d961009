"""The per-domain fast path of email validation gives exactly what email-validator gives."""

from __future__ import annotations

import re
from collections.abc import Callable

import idna
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from identity_graph import email_normalize
from identity_graph.email_normalize import email_parts, email_parts_reference
from identity_graph.identifiers import GMAIL_DOMAINS, InvalidIdentifier, normalize_email


def _normalize_email_before(value: str, *, fold_gmail: bool = False) -> str:
    """identifiers.normalize_email as it was before the fast path, for comparison."""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as e:
        raise InvalidIdentifier(f"invalid email: {e}") from e
    local, domain = checked.local_part.lower(), checked.domain.lower()
    if fold_gmail and domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def _outcome(fn: Callable[[str], object], value: str) -> tuple[str, object]:
    try:
        return ("ok", fn(value))
    except (EmailNotValidError, InvalidIdentifier) as e:
        return (type(e).__name__, str(e))


def assert_same_as_reference(value: str) -> None:
    expected = _outcome(email_parts_reference, value)
    # Twice: the first call may fill the domain cache, the second uses it.
    assert _outcome(email_parts, value) == expected
    assert _outcome(email_parts, value) == expected
    for fold in (False, True):
        before = _outcome(lambda v, f=fold: _normalize_email_before(v, fold_gmail=f), value)
        assert _outcome(lambda v, f=fold: normalize_email(v, fold_gmail=f), value) == before


# A punycode domain whose Unicode form is longer in UTF-8 octets (199) than the ASCII input
# (115), so an address that fits as given can be too long after normalization.
_CJK_LABEL = "中文" * 8
_CJK_DOMAIN_ASCII = ".".join([idna.alabel(_CJK_LABEL).decode("ascii")] * 4) + ".com"


def _domain_of_length(n: int) -> str:
    labels, left = [], n - 4  # room for ".com"
    while left > 0:
        size = min(63, left)
        labels.append("d" * size)
        left -= size + 1
    return ".".join(labels) + ".com"


EDGE_CASES = [
    # plain, mixed case, plus tags, gmail
    "alice@example.com",
    "John.DOE+news@Example.COM",
    "J.D+x@GoogleMail.com",
    "a@b.co",
    "Postmaster@Example.com",  # RFC 2142 case-insensitive mailbox name
    "!#$%&'*+/=?^_`{|}~-@example.org",
    # dots
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a.b.c@example.com",
    # quoting, display names, spaces, @-signs
    '"john"@example.com',
    '"john doe"@example.com',
    '"a@b"@example.com',
    "John <john@example.com>",
    "a b@example.com",
    " a@example.com",
    "a@example.com ",
    "a@exa mple.com",
    "a@b@example.com",
    "a@@example.com",
    "a＠example.com",
    "",
    "@",
    "a@",
    "@example.com",
    "not-an-email",
    # non-ASCII local part and domain (IDNA)
    "jöhn@example.com",
    "Jöhn@example.com",
    "john@bücher.de",
    "john@BÜCHER.de",
    "john@xn--bcher-kva.de",
    "john@XN--BCHER-KVA.DE",
    "user@中文.com",
    "x@xn--zz.com",
    # local part length: 64 is email-validator's (non-strict) limit; 65 is still valid there
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "a" * 100 + "@example.com",
    # total length: 254 octets is the limit
    "a" * 64 + "@" + _domain_of_length(189),
    "a" * 64 + "@" + _domain_of_length(190),
    "a" * 10 + "@" + _domain_of_length(243),
    "a" * 10 + "@" + _domain_of_length(244),
    "a@" + _domain_of_length(252),
    "a@" + _domain_of_length(253),
    "ab@" + _domain_of_length(252),
    "a@" + _domain_of_length(254),
    # fits as given, too long once the punycode domain is decoded
    "a" * 54 + "@" + _CJK_DOMAIN_ASCII,
    "a" * 55 + "@" + _CJK_DOMAIN_ASCII,
    # invalid and special-use domains
    "x@-bad.com",
    "x@bad-.com",
    "x@localhost",
    "x@example",
    "x@test",
    "x@foo.test",
    "x@foo.local",
    "x@foo.localhost",
    "x@foo.invalid",
    "x@foo.onion",
    "x@foo.arpa",
    "x@foo.internal",
    "x@1.2.3.4",
    "x@[1.2.3.4]",
    "x@[IPv6:::1]",
    "x@a_b.com",
    "x@ab--cd.com",
    "x@example.com.",
    "x@.example.com",
    "x@example..com",
    "x@exa<mple.com",
    "x@" + "d" * 64 + ".com",
]


@pytest.mark.parametrize("value", EDGE_CASES)
def test_edge_cases_match_email_validator(value: str) -> None:
    assert_same_as_reference(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("John.DOE+news@Example.COM", "john.doe+news@example.com"),
        ("john@XN--BCHER-KVA.DE", "john@bücher.de"),
        ("a" * 65 + "@example.com", "a" * 65 + "@example.com"),
        ("J.D+x@GoogleMail.com", "jd@gmail.com"),
    ],
)
def test_normalized_values(value: str, expected: str) -> None:
    assert normalize_email(value, fold_gmail=True) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a..b@example.com", "two periods in a row"),
        ("x@-bad.com", "hyphen immediately after the @-sign"),
        ("x@foo.local", "special-use or reserved name"),
        ("a" * 64 + "@" + _domain_of_length(190), "too long (1 character too many)"),
        ("a" * 55 + "@" + _CJK_DOMAIN_ASCII, "too long after normalization (1 byte too many)"),
    ],
)
def test_invalid_keeps_email_validator_message(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"^invalid email: .*" + re.escape(message)):
        normalize_email(value)


def test_each_domain_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(value: str, **kwargs: bool) -> object:
        calls.append(value)
        return validate_email(value, **kwargs)

    monkeypatch.setattr(email_normalize, "validate_email", counting)
    email_normalize._domain_outcome.cache_clear()
    for i in range(50):
        assert email_parts(f"User{i}@Example.org") == (f"user{i}", "example.org")
        email_parts(f"user.{i}@mail.example.net")
    assert calls == ["a@Example.org", "a@mail.example.net"]


# -- property: the fast path and email-validator agree ----------------------------------------

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
ODD = ' "@(),:;<>[]\\é中\t'

DOMAINS = [
    "example.com",
    "Example.COM",
    "gmail.com",
    "googlemail.com",
    "mail.example.co.uk",
    "bücher.de",
    "xn--bcher-kva.de",
    "XN--BCHER-KVA.DE",
    "中文.com",
    _CJK_DOMAIN_ASCII,
    "xn--zz.com",
    "-bad.com",
    "localhost",
    "example",
    "foo.local",
    "foo.test",
    "foo.invalid",
    "foo.onion",
    "1.2.3.4",
    "[1.2.3.4]",
    "ab--cd.com",
    "example.com.",
    "",
    _domain_of_length(200),
    _domain_of_length(240),
    _domain_of_length(252),
    _domain_of_length(253),
]

atom = st.text(alphabet=ATEXT, min_size=1, max_size=12)
plain_label = st.builds(
    lambda a, b: a + b,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789", min_size=1, max_size=10),
    st.sampled_from(["", "-x", "--y", "0"]),
)
label = st.one_of(
    plain_label,
    plain_label,
    st.text(alphabet="abcDEF0123-_ü中", min_size=0, max_size=6),
    st.integers(min_value=1, max_value=63).map(lambda n: "q" * n),
)
tld = st.sampled_from(
    ["com", "com", "de", "org", "co.uk", "local", "test", "invalid", "123", "x", "", "xn--p1ai"]
)
generated_domain = st.builds(
    lambda labels, end: ".".join([*labels, end]),
    st.lists(label, min_size=0, max_size=4),
    tld,
)
common_domain = st.sampled_from(
    ["gmail.com", "Example.org", "mail.example.co.uk", "xn--bcher-kva.de", "a-b.io"]
)
domain = st.one_of(common_domain, st.sampled_from(DOMAINS), generated_domain)

local_part = st.one_of(
    # dot-atoms: the fast path's shape
    st.lists(atom, min_size=1, max_size=5).map(".".join),
    st.lists(atom, min_size=1, max_size=5).map(".".join),
    # dot placement and other characters: mostly the full path
    st.text(alphabet=ATEXT + "..", min_size=0, max_size=70),
    st.text(alphabet=ATEXT + "." + ODD, min_size=0, max_size=20),
    # around the 64-character local part limit
    st.builds(
        lambda n, tail: "a" * n + tail, st.integers(50, 70), st.sampled_from(["", ".b", "é"])
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    local=local_part,
    dom=domain,
    shape=st.sampled_from(["{l}@{d}"] * 6 + [" {l}@{d}", "{l}@@{d}", "{l}@x@{d}", '"{l}"@{d}']),
)
def test_fast_path_matches_email_validator(local: str, dom: str, shape: str) -> None:
    assert_same_as_reference(shape.format(l=local, d=dom))
