"""Identifier normalization: pure, no store."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity_graph.config import Config
from identity_graph.identifiers import InvalidIdentifier, Normalizer


@pytest.fixture
def norm() -> Normalizer:
    return Normalizer(Config())


# -- email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),
        ("\tBOB.Smith@Mail.Example.org\n", "bob.smith@mail.example.org"),
        # Without folding, gmail dots and plus tags are kept (they may be distinct mailboxes
        # on other providers, and folding is opt-in).
        ("John.Doe+news@Gmail.com", "john.doe+news@gmail.com"),
        ("j.d@googlemail.com", "j.d@googlemail.com"),
    ],
)
def test_email_lowercased_and_trimmed(norm: Normalizer, raw: str, expected: str) -> None:
    assert norm.normalize("email", raw) == expected


@pytest.mark.parametrize(
    "raw", ["not-an-email", "a@@b.com", "a@b", "@example.com", "alice@", "a b@example.com"]
)
def test_invalid_email_raises(norm: Normalizer, raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="email"):
        norm.normalize("email", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Doe+news@Gmail.com", "johndoe@gmail.com"),
        ("j.d@googlemail.com", "jd@gmail.com"),
        ("JD@gmail.com", "jd@gmail.com"),
        # Folding touches gmail only.
        ("john.doe+news@example.com", "john.doe+news@example.com"),
    ],
)
def test_gmail_folding_when_configured(raw: str, expected: str) -> None:
    assert Normalizer(Config(fold_gmail=True)).normalize("email", raw) == expected


def test_gmail_variants_collapse_only_with_folding() -> None:
    variants = ["john.doe@gmail.com", "johndoe+x@gmail.com", "John.Doe@googlemail.com"]
    folded = {Normalizer(Config(fold_gmail=True)).normalize("email", v) for v in variants}
    plain = {Normalizer(Config()).normalize("email", v) for v in variants}
    assert folded == {"johndoe@gmail.com"}
    assert len(plain) == 3


# -- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07400 123456", "+447400123456"),  # national format, default region GB
        ("020 7946 0018", "+442079460018"),
        ("+44 7400 123456", "+447400123456"),
        ("0044 7400 123456", "+447400123456"),
        (" (020) 7946-0018 ", "+442079460018"),
        ("+1 (201) 555-0123", "+12015550123"),  # explicit country code beats the region
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_phone_to_e164(norm: Normalizer, raw: str, expected: str) -> None:
    assert norm.normalize("phone", raw) == expected


def test_phone_default_region_is_configurable() -> None:
    us = Normalizer(Config(default_region="US"))
    assert us.normalize("phone", "(201) 555-0123") == "+12015550123"
    # A GB mobile in national format is not a valid US number.
    with pytest.raises(InvalidIdentifier):
        us.normalize("phone", "07400 123456")
    # The same national digits read with the GB default are a +44 number.
    assert Normalizer(Config()).normalize("phone", "(201) 555-0123") == "+442015550123"


@pytest.mark.parametrize("raw", ["12", "abc", "+44 1234", "+1 555", "07400 12345678901"])
def test_invalid_phone_raises(norm: Normalizer, raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="phone"):
        norm.normalize("phone", raw)


def test_phone_formats_of_one_number_agree(norm: Normalizer) -> None:
    forms = [
        "07400123456",
        "07400 123 456",
        "+447400123456",
        "+44 (0)7400 123456",
        "0044-7400-123456",
    ]
    assert {norm.normalize("phone", f) for f in forms} == {"+447400123456"}


# -- placeholders -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "raw"),
    [
        ("email", "test@test.com"),
        ("email", "  TEST@Test.com "),
        ("email", "test@example.com"),
        ("phone", "0000000000"),
        ("phone", "1234567890"),
        ("user_id", "n/a"),
        ("user_id", "N/A"),
        ("user_id", "null"),
        ("user_id", "NULL"),
        ("anonymous_id", " undefined "),
        ("user_id", ""),
        ("email", ""),
        ("phone", "   "),
        ("crm_id", "-"),
    ],
)
def test_placeholders_are_none(norm: Normalizer, id_type: str, raw: str) -> None:
    assert norm.normalize(id_type, raw) is None


def test_none_is_none(norm: Normalizer) -> None:
    assert norm.normalize("user_id", None) is None


def test_configured_placeholders_replace_defaults() -> None:
    custom = Normalizer(Config(placeholders=frozenset({"", "guest"})))
    assert custom.normalize("user_id", "Guest") is None
    assert custom.normalize("user_id", "null") == "null"


# -- length, ids, control characters ----------------------------------------------------------


def test_over_length_value_raises(norm: Normalizer) -> None:
    limit = Config().max_value_length
    assert norm.normalize("user_id", "x" * limit) == "x" * limit
    with pytest.raises(InvalidIdentifier, match="limit"):
        norm.normalize("user_id", "x" * (limit + 1))
    long_email = "a" * 250 + "@example.com"
    with pytest.raises(InvalidIdentifier):
        norm.normalize("email", long_email)


def test_length_is_measured_after_trimming(norm: Normalizer) -> None:
    limit = Config().max_value_length
    assert norm.normalize("user_id", "  " + "y" * limit + "  ") == "y" * limit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  u-1 ", "u-1"), ("\tABC123\n", "ABC123"), ("cookie 42", "cookie 42")],
)
def test_id_values_trimmed_not_case_folded(norm: Normalizer, raw: str, expected: str) -> None:
    assert norm.normalize("user_id", raw) == expected
    assert norm.normalize("anonymous_id", raw) == expected


def test_non_string_values_are_stringified(norm: Normalizer) -> None:
    assert norm.normalize("crm_id", 12345) == "12345"


@pytest.mark.parametrize(
    "ch",
    [
        "\x00",
        "\x07",
        "\t",
        "\n",
        "\x1b",
        "\x7f",
        "\x85",
        "\u200b",  # zero width space
        "\u200e",  # left-to-right mark
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u2067",  # right-to-left isolate
        "\u2069",  # pop directional isolate
        "\ufeff",  # byte order mark
    ],
)
def test_control_and_invisible_characters_rejected(norm: Normalizer, ch: str) -> None:
    with pytest.raises(InvalidIdentifier, match="control"):
        norm.normalize("user_id", f"ab{ch}cd")


@settings(max_examples=200)
@given(
    st.characters(categories=["Cc", "Cf"]),
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8),
)
def test_any_control_or_format_character_inside_an_id_is_rejected(ch: str, text: str) -> None:
    assert unicodedata.category(ch) in ("Cc", "Cf")
    with pytest.raises(InvalidIdentifier):
        Normalizer(Config()).normalize("user_id", f"{text}{ch}{text}")


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), max_size=40))
def test_normalizing_is_idempotent_for_ids(text: str) -> None:
    norm = Normalizer(Config())
    try:
        once = norm.normalize("user_id", text)
    except InvalidIdentifier:
        return
    if once is None:
        return
    assert once == once.strip()
    assert norm.normalize("user_id", once) == once
