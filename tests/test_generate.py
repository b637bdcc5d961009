from __future__ import annotations

import csv
import json
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from identity_graph.evaluation import evaluate, read_truth
from identity_graph.generate import (
    EMAIL_PLACEHOLDERS,
    KIOSK_ANONYMOUS_ID,
    PUBLIC_PERSON,
    GenerateSummary,
    NoiseRates,
    generate,
)

Key = tuple[str, str]


@dataclass(frozen=True)
class Dataset:
    out: Path
    summary: GenerateSummary
    truth: dict[Key, tuple[str, bool]]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("gen2000")
    summary = generate(2000, 7, out)
    return Dataset(out, summary, read_truth(summary.files["truth"]))


# --------------------------------------------------------------------- independent normalizers


@cache
def norm_email(text: str) -> str | None:
    value = text.strip().lower()
    if value in EMAIL_PLACEHOLDERS:
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    return value


@cache
def norm_phone(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def event_identifiers(ev: dict[str, Any]) -> list[Key]:
    ids: list[Key] = []
    for field, typ in (
        ("anonymousId", "anonymous_id"),
        ("userId", "user_id"),
        ("previousId", "anonymous_id"),
    ):
        if ev.get(field):
            ids.append((typ, ev[field].strip()))
    ctx = ev.get("context", {})
    device = ctx.get("device", {}).get("id")
    if device:
        ids.append(("device_id", device.strip()))
    for traits in (ev.get("traits", {}), ctx.get("traits", {})):
        if "email" in traits and (e := norm_email(traits["email"])):
            ids.append(("email", e))
        if "phone" in traits and (p := norm_phone(traits["phone"])):
            ids.append(("phone", p))
    return ids


def observations(out: Path) -> Iterator[list[Key]]:
    """Identifiers of every valid observation, read back from the files."""
    with (out / "events.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            yield event_identifiers(ev)
    specs = {
        "crm.csv": (
            "customer_id",
            "crm_id",
            {"email": "email", "work_email": "email", "phone": "phone"},
        ),
        "pos.csv": ("receipt_id", "receipt_id", {"loyalty_id": "loyalty_id", "phone": "phone"}),
    }
    for name, (key_col, key_type, columns) in specs.items():
        with (out / name).open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for row in reader:
                if len(row) != len(header):
                    continue
                rec = dict(zip(header, row, strict=True))
                if not rec[key_col].strip():
                    continue
                ids = [(key_type, rec[key_col].strip())]
                for col, typ in columns.items():
                    if not rec[col]:
                        continue
                    value = (
                        norm_email(rec[col])
                        if typ == "email"
                        else (norm_phone(rec[col]) if typ == "phone" else rec[col].strip())
                    )
                    if value:
                        ids.append((typ, value))
                yield ids


# --------------------------------------------------------------------- tests


def test_determinism(tmp_path: Path) -> None:
    a = generate(300, 42, tmp_path / "a")
    b = generate(300, 42, tmp_path / "b")
    c = generate(300, 43, tmp_path / "c")
    assert set(a.files) == {"events", "crm", "crm_mapping", "pos", "pos_mapping", "truth"}
    for key, path in a.files.items():
        assert path.read_bytes() == b.files[key].read_bytes(), key
    assert a.files["events"].read_bytes() != c.files["events"].read_bytes()
    assert a.files["truth"].read_bytes() != c.files["truth"].read_bytes()
    assert (a.events, a.malformed) == (b.events, b.malformed)


def test_summary_counts_match_files(dataset: Dataset) -> None:
    s = dataset.summary
    assert s.persons == 2000
    lines = s.files["events"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == s.events
    bad = 0
    for line in lines:
        try:
            json.loads(line)
        except json.JSONDecodeError:
            bad += 1
    assert bad == s.malformed_by_kind["events_truncated"] > 0
    for name, count in (("crm", s.crm_rows), ("pos", s.pos_rows)):
        with s.files[name].open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) - 1 == count
        wrong = sum(1 for r in rows[1:] if len(r) != len(rows[0]))
        no_key = sum(1 for r in rows[1:] if len(r) == len(rows[0]) and not r[0])
        assert wrong == s.malformed_by_kind[f"{name}_wrong_columns"] > 0
        assert no_key == s.malformed_by_kind[f"{name}_missing_key"] > 0
    assert s.malformed == sum(s.malformed_by_kind.values())
    assert s.malformed_by_kind["crm_invalid_email"] > 0
    assert s.truth_rows == len(dataset.truth)
    assert s.linkable_rows == sum(1 for _, link in dataset.truth.values() if link)
    # volumes in the advertised ranges
    assert 0.6 * 2000 <= s.crm_rows <= 0.8 * 2000
    assert 8 <= s.events / s.persons <= 15
    assert 0.002 <= s.malformed_by_kind["events_truncated"] / s.events <= 0.01


def test_events_follow_segment_spec(dataset: Dataset) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    types: Counter[str] = Counter()
    message_ids: set[str] = set()
    events: Counter[str] = Counter()
    with dataset.summary.files["events"].open(encoding="utf-8") as fh:
        for line in fh:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            types[ev["type"]] += 1
            assert ev["messageId"] not in message_ids
            message_ids.add(ev["messageId"])
            assert ev["timestamp"].endswith("Z")
            ts = datetime.fromisoformat(ev["timestamp"])
            assert start <= ts < start + timedelta(days=95)
            assert ev.get("anonymousId") or ev.get("userId")
            if ev["type"] == "screen":
                assert ev["context"]["device"]["id"]
            elif ev["type"] == "alias":
                assert ev["previousId"] and ev["userId"]
            elif ev["type"] == "identify":
                assert "email" in ev["traits"]
            elif ev["type"] == "track":
                events[ev["event"]] += 1
                if ev["event"] == "Order Completed":
                    assert ev["properties"]["revenue"] > 0
    assert {"identify", "track", "page", "screen", "alias"} <= set(types)
    assert events["Order Completed"] > 0 and events["Product Viewed"] > 0


def test_truth_values_are_normalized(dataset: Dataset) -> None:
    types = Counter(typ for typ, _ in dataset.truth)
    assert set(types) == {
        "email",
        "phone",
        "anonymous_id",
        "device_id",
        "user_id",
        "crm_id",
        "loyalty_id",
        "receipt_id",
    }
    for (typ, value), (person, _) in dataset.truth.items():
        assert value == value.strip() and value
        assert person == PUBLIC_PERSON or (person.startswith("P") and len(person) == 7)
        if typ == "email":
            assert value == value.lower()
            assert norm_email(value) == value
            assert value not in EMAIL_PLACEHOLDERS
        elif typ == "phone":
            parsed = phonenumbers.parse(value)
            assert phonenumbers.is_valid_number(parsed)
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == value
            assert value.startswith("+44")
        elif typ == "user_id":
            assert value.startswith("u_")
        elif typ == "crm_id":
            assert value.startswith("C")


def test_noise_is_present(dataset: Dataset) -> None:
    text = dataset.summary.files["events"].read_text(encoding="utf-8")
    crm = dataset.summary.files["crm"].read_text(encoding="utf-8")
    for phone_format in ("(0)74", "+44 74", ",074"):
        assert phone_format in text + crm, phone_format
    assert '"email":" ' in text or '"email":"\\t' in text  # surrounding whitespace
    assert any(p in text for p in ('"email":"test@test.com"', '"email":"n/a"', '"email":""'))
    assert "@@" in crm
    emails = [e for (t, e) in dataset.truth if t == "email"]
    assert any(e.upper() in text for e in emails)  # some written in upper case
    assert "iPad13,1" in text


def test_every_identifier_accounted_for_and_truth_is_clean(dataset: Dataset) -> None:
    truth = dataset.truth
    found: set[Key] = set()
    for ids in observations(dataset.out):
        persons = {truth[k][0] for k in ids if k in truth}
        for k in ids:
            assert k in truth, k
            found.add(k)
        persons.discard(PUBLIC_PERSON)
        assert len(persons) <= 1, ids  # one observation never mixes two true persons
    assert found == set(truth)


def test_linkable_is_the_main_co_observation_component(dataset: Dataset) -> None:
    truth = dataset.truth
    parent: dict[Key, Key] = {}

    def find(k: Key) -> Key:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for ids in observations(dataset.out):
        own = [k for k in ids if truth[k][0] != PUBLIC_PERSON]
        for k in own:
            find(k)
        for k in own[1:]:
            parent[find(k)] = find(own[0])
    components: dict[str, dict[Key, set[Key]]] = defaultdict(lambda: defaultdict(set))
    for k, (person, _) in truth.items():
        if person != PUBLIC_PERSON:
            components[person][find(k)].add(k)

    def rank(comp: set[Key]) -> tuple[int, bool, int]:
        strong = sum(1 for t, _ in comp if t != "receipt_id")
        return strong, any(t == "user_id" for t, _ in comp), len(comp)

    for person, comps in components.items():
        linkable = {k for comp in comps.values() for k in comp if truth[k][1]}
        best = max(rank(c) for c in comps.values())
        if best[2] < 2:
            assert not linkable
            continue
        assert linkable in [c for c in comps.values() if rank(c) == best], person
    linkable_types = {k[0] for k, (_, link) in truth.items() if link}
    assert linkable_types == {
        "email",
        "phone",
        "anonymous_id",
        "device_id",
        "user_id",
        "crm_id",
        "loyalty_id",
        "receipt_id",
    }
    # some cookies never log in and stay unlinkable
    assert any(
        not link and k[0] == "anonymous_id" for k, (p, link) in truth.items() if p != PUBLIC_PERSON
    )


def test_public_kiosk(dataset: Dataset) -> None:
    users: set[str] = set()
    emails: set[str] = set()
    with dataset.summary.files["events"].open(encoding="utf-8") as fh:
        for line in fh:
            if KIOSK_ANONYMOUS_ID not in line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            assert ev["anonymousId"] == KIOSK_ANONYMOUS_ID
            users.add(ev["userId"])
            if ev["type"] == "identify" and (e := norm_email(ev["traits"]["email"])):
                emails.add(e)
    assert len(users) >= 20
    assert len(emails) >= 15
    assert dataset.truth[("anonymous_id", KIOSK_ANONYMOUS_ID)] == (PUBLIC_PERSON, False)


def test_household_tablet_is_seen_with_one_user(dataset: Dataset) -> None:
    users: dict[str, set[str]] = defaultdict(set)
    with dataset.summary.files["events"].open(encoding="utf-8") as fh:
        for line in fh:
            if "iPad13,1" not in line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            device = ev["context"]["device"]["id"]
            if ev.get("userId"):
                users[device].add(ev["userId"])
            else:
                users.setdefault(device, set())
    assert len(users) >= 20
    linked = 0
    for device, seen in users.items():
        assert len(seen) == 1, device  # the owner logs in on it; the others never do
        (user,) = seen
        owner, user_linkable = dataset.truth[("user_id", user)]
        assert dataset.truth[("device_id", device)] == (owner, user_linkable)
        linked += user_linkable
    assert linked >= 0.9 * len(users)


def test_mapping_files_match_csv_headers(dataset: Dataset) -> None:
    files = dataset.summary.files
    for csv_key, mapping_key, key_type in (
        ("crm", "crm_mapping", "crm_id"),
        ("pos", "pos_mapping", "receipt_id"),
    ):
        mapping = tomllib.loads(files[mapping_key].read_text(encoding="utf-8"))
        header = files[csv_key].read_text(encoding="utf-8").splitlines()[0].split(",")
        record = mapping["record"]
        assert record["key_type"] == key_type
        assert record["key_column"] in header
        assert record["timestamp_column"] in header
        assert set(mapping["identifiers"]) <= set(header)
        assert set(mapping.get("attributes", {})) <= set(header)
        assert 0 <= mapping["source"]["trust"] <= 1
        assert isinstance(mapping["source"]["priority"], int)


def test_truth_scores_itself_perfectly(dataset: Dataset) -> None:
    assignments = {k: person for k, (person, _) in dataset.truth.items()}
    report = evaluate(assignments, dataset.truth)
    assert report.all_identifiers.f1 == 1.0
    assert report.linkable_identifiers.f1 == 1.0
    assert report.max_persons_per_profile == 1
    # putting every identifier in its own profile finds nothing
    singletons = {k: f"{k[0]}:{k[1]}" for k in dataset.truth}
    assert evaluate(singletons, dataset.truth).all_identifiers.recall == 0.0


def test_start_and_small_inputs(tmp_path: Path) -> None:
    s = generate(25, 1, tmp_path / "small", start=datetime(2025, 6, 1, 12, 0))
    first = json.loads(s.files["events"].read_text(encoding="utf-8").splitlines()[0].rstrip())
    assert first["timestamp"].startswith("2025-06")
    empty = generate(0, 1, tmp_path / "empty")
    assert (empty.events, empty.crm_rows, empty.pos_rows, empty.malformed) == (0, 0, 0, 0)
    assert empty.files["truth"].read_text(encoding="utf-8").strip() == (
        "identifier_type,identifier_value,person_id,linkable"
    )


def test_rates_are_configurable_and_validated(tmp_path: Path) -> None:
    clean = NoiseRates(
        malformed_event=0.0,
        bad_csv_row=0.0,
        invalid_email=0.0,
        placeholder_email=0.0,
        placeholder_phone=0.0,
    )
    s = generate(200, 3, tmp_path / "clean", rates=clean)
    assert s.malformed == 0
    with pytest.raises(ValueError):
        NoiseRates(crm=1.5)
    with pytest.raises(ValueError):
        NoiseRates(kiosk_persons=-1)
    with pytest.raises(ValueError):
        generate(-1, 0, tmp_path / "neg")
