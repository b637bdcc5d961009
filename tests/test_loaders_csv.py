"""CSV records + TOML mapping: mapping file validation, row mapping, rejects, line numbers."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_graph.config import Config, SourceConfig
from identity_graph.errors import ConfigError, InputError
from identity_graph.identifiers import Normalizer
from identity_graph.loaders import Mapping, RejectWriter, load_mapping, open_reader
from identity_graph.models import Observation, Reject

MAPPING = """\
[source]
trust = 0.9
priority = 20

[record]
key_column = "customer_id"
key_type = "crm_id"
timestamp_column = "updated_at"

[identifiers]
email = "email"
phone = "phone"

[attributes]
first_name = "first_name"
city = "home_city"

[consent]
marketing_opt_in = "email_marketing"
"""

HEADER = "customer_id,email,phone,first_name,city,marketing_opt_in,updated_at"
MTIME = datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer(Config())


@pytest.fixture
def mapping(tmp_path: Path) -> Mapping:
    path = tmp_path / "crm.mapping.toml"
    path.write_text(MAPPING)
    return load_mapping(path)


def write_csv(tmp_path: Path, text: str | bytes, name: str = "crm.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    stamp = MTIME.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def read(path: Path, mapping: Mapping, normalizer: Normalizer) -> list[Observation | Reject]:
    reader = open_reader(path, fmt="csv", source="crm", normalizer=normalizer, mapping=mapping)
    units = list(reader)
    assert reader.bytes_read == path.stat().st_size
    return units


def only_reject(units: list[Observation | Reject]) -> Reject:
    rejects = [u for u in units if isinstance(u, Reject)]
    assert len(rejects) == 1, units
    return rejects[0]


# --- mapping file ---------------------------------------------------------------------------


def test_load_mapping(mapping: Mapping) -> None:
    assert mapping.key_column == "customer_id"
    assert mapping.key_type == "crm_id"
    assert mapping.timestamp_column == "updated_at"
    assert mapping.timestamp_format is None
    assert mapping.delimiter == ","
    assert mapping.identifiers == {"email": "email", "phone": "phone"}
    assert mapping.attributes == {"first_name": "first_name", "city": "home_city"}
    assert mapping.consent == {"marketing_opt_in": "email_marketing"}
    assert mapping.source_config("crm") == SourceConfig("crm", trust=0.9, priority=20)


def test_minimal_mapping_has_no_source_settings(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[record]\nkey_column = "id"\nkey_type = "crm_id"\ndelimiter = "\\t"\n')
    m = load_mapping(path)
    assert m.source is None and m.source_config("crm") is None
    assert m.delimiter == "\t"
    assert m.columns() == ["id"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[records]\nkey_column = 'id'", "unknown section 'records'"),
        ("[record]\nkey_column = 'id'\nkey_type = 'crm_id'\nkey_col = 'x'", "record.'key_col'"),
        ("[record]\nkey_type = 'crm_id'", "missing required key record.key_column"),
        ("[record]\nkey_column = 'id'", "missing required key record.key_type"),
        ("[record]\nkey_column = ''\nkey_type = 'crm_id'", "record.key_column must be a non-empty"),
        ("[record]\nkey_column = 'id'\nkey_type = 'CRM ID'", "invalid identifier type name"),
        ("[source]\ntrust = 1.5\n[record]\nkey_column = 'id'\nkey_type = 'x'", "trust must be in"),
        ("[source]\nweight = 1\n[record]\nkey_column = 'id'\nkey_type = 'x'", "source.'weight'"),
        ("[source]\npriority = 'high'\n[record]\nkey_column = 'i'\nkey_type = 'x'", "priority"),
        ("[record]\nkey_column = 'id'\nkey_type = 'x'\ndelimiter = ';;'", "delimiter"),
        (
            "[record]\nkey_column = 'id'\nkey_type = 'x'\ntimestamp_format = '%Y'",
            "timestamp_format needs record.timestamp_column",
        ),
        ("[record]\nkey_column = 'id'\nkey_type = 'x'\n[identifiers]\nemail = 3", "identifiers."),
        (
            "[record]\nkey_column = 'id'\nkey_type = 'x'\n[attributes]\na = 'n'\nb = 'n'",
            "'n' is mapped twice",
        ),
        ("[record\n", "invalid TOML"),
    ],
)
def test_bad_mapping_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.toml")


def test_mapped_column_missing_from_header(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    path = write_csv(tmp_path, "customer_id,email,first_name,city,marketing_opt_in,updated_at\n")
    with pytest.raises(ConfigError) as info:
        open_reader(path, fmt="csv", source="crm", normalizer=normalizer, mapping=mapping)
    assert "'phone'" in str(info.value) and str(path) in str(info.value)


def test_empty_csv_has_no_header(tmp_path: Path, mapping: Mapping, normalizer: Normalizer) -> None:
    path = write_csv(tmp_path, "\n\n")
    with pytest.raises(InputError, match="expected a header row"):
        open_reader(path, fmt="csv", source="crm", normalizer=normalizer, mapping=mapping)


def test_mapping_is_only_for_csv(tmp_path: Path, mapping: Mapping, normalizer: Normalizer) -> None:
    path = write_csv(tmp_path, HEADER + "\n", name="e.jsonl")
    with pytest.raises(ConfigError, match="--mapping applies only to --format csv"):
        open_reader(path, fmt="segment", source="crm", normalizer=normalizer, mapping=mapping)


# --- rows -----------------------------------------------------------------------------------


def test_row_to_observation(tmp_path: Path, mapping: Mapping, normalizer: Normalizer) -> None:
    path = write_csv(
        tmp_path,
        f"{HEADER}\n C-1 , Ann@Example.com,07911 123456, Ann ,,Yes,2024-02-03T04:05:06+01:00\n",
    )
    (obs,) = read(path, mapping, normalizer)
    assert isinstance(obs, Observation)
    assert obs.source == "crm"
    assert obs.record_key == "C-1"
    assert obs.identifiers == (
        ("crm_id", "C-1"),
        ("email", "ann@example.com"),
        ("phone", "+447911123456"),
    )
    assert obs.attributes == {"first_name": "Ann"}  # empty city omitted
    assert obs.consent == {"email_marketing": True}
    assert obs.timestamp == datetime(2024, 2, 3, 3, 5, 6, tzinfo=UTC)
    assert obs.event is None
    assert (obs.file, obs.line) == (str(path), 2)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True), ("YES", True), ("1", True), ("granted", True),
        ("false", False), ("No", False), ("0", False), ("denied", False), ("", None),
    ],
)  # fmt: skip
def test_consent_cells(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer, cell: str, expected: bool | None
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\nC-1,,,,,{cell},\n")
    (obs,) = read(path, mapping, normalizer)
    assert isinstance(obs, Observation)
    assert obs.consent == ({} if expected is None else {"email_marketing": expected})


def test_placeholder_identifiers_are_dropped(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\nC-1,test@test.com,0000000000,,,,\n")
    (obs,) = read(path, mapping, normalizer)
    assert isinstance(obs, Observation)
    assert obs.identifiers == (("crm_id", "C-1"),)


def test_no_timestamp_column_uses_file_mtime(tmp_path: Path, normalizer: Normalizer) -> None:
    mpath = tmp_path / "m.toml"
    mpath.write_text('[record]\nkey_column = "id"\nkey_type = "crm_id"\n')
    path = write_csv(tmp_path, "id,other\nA,x\n")
    (obs,) = read(path, load_mapping(mpath), normalizer)
    assert isinstance(obs, Observation) and obs.timestamp == MTIME


def test_empty_timestamp_cell_uses_file_mtime(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\nC-1,,,,,,  \n")
    (obs,) = read(path, mapping, normalizer)
    assert isinstance(obs, Observation) and obs.timestamp == MTIME


def test_timestamp_format_and_tab_delimiter(tmp_path: Path, normalizer: Normalizer) -> None:
    mpath = tmp_path / "m.toml"
    mpath.write_text(
        '[record]\nkey_column = "id"\nkey_type = "loyalty_id"\ntimestamp_column = "at"\n'
        'timestamp_format = "%d/%m/%Y %H:%M"\ndelimiter = "\\t"\n'
    )
    path = write_csv(tmp_path, "id\tat\nL-9\t31/12/2023 23:59\nL-10\t2023-12-31\n")
    ok, bad = read(path, load_mapping(mpath), normalizer)
    assert isinstance(ok, Observation)
    assert ok.timestamp == datetime(2023, 12, 31, 23, 59, tzinfo=UTC)
    assert ok.identifiers == (("loyalty_id", "L-9"),)
    assert isinstance(bad, Reject)
    assert (bad.line, bad.field) == (3, "at")
    assert bad.reason.startswith("invalid timestamp: time data '2023-12-31' does not match")


# --- rejects, each with its field and reason ------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("C-1,a@example.com", None, "expected 7 columns, got 2"),
        ("C-1,,,,,,,,", None, "expected 7 columns, got 9"),
        (" ,a@example.com,,,,,", "customer_id", "missing record key"),
        ("n/a,a@example.com,,,,,", "customer_id", "missing record key: 'n/a' is a placeholder"),
        ("C\x01,,,,,,", "customer_id", "id contains control characters"),
        ("C-1,,,,,maybe,", "marketing_opt_in",
         "invalid consent value 'maybe': expected true/false, yes/no, 1/0 or granted/denied"),
        (f"C-1,,,{'x' * 4097},,,", "first_name",
         "value is 4097 characters, over the limit of 4096"),
    ],
)  # fmt: skip
def test_reject_kinds(
    tmp_path: Path,
    mapping: Mapping,
    normalizer: Normalizer,
    row: str,
    field: str | None,
    reason: str,
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\nC-0,,,,,,\n{row}\nC-2,,,,,,\n")
    units = read(path, mapping, normalizer)
    assert [type(u) for u in units] == [Observation, Reject, Observation]
    bad = only_reject(units)
    assert (bad.file, bad.line, bad.field, bad.reason) == (str(path), 3, field, reason)
    assert bad.raw == row[:500]


@pytest.mark.parametrize(
    ("row", "field", "reason_start"),
    [
        ("C-1,not-an-email,,,,,", "email", "invalid email: "),
        ("C-1,,12,,,,", "phone", "invalid phone number"),
        ("C-1,,,,,,last tuesday", "updated_at", "invalid timestamp: Invalid isoformat string"),
    ],
)
def test_invalid_values_name_their_column(
    tmp_path: Path,
    mapping: Mapping,
    normalizer: Normalizer,
    row: str,
    field: str,
    reason_start: str,
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\n{row}\n")
    bad = only_reject(read(path, mapping, normalizer))
    assert (bad.line, bad.field) == (2, field)
    assert bad.reason.startswith(reason_start), bad.reason


def test_line_numbers_are_physical_with_multiline_cells_and_blank_lines(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    text = (
        f"{HEADER}\r\n"
        'C-1,,,"Ann\r\nMarie",,,\r\n'  # lines 2-3
        "\r\n"  # line 4: blank
        'C-2,,,"a\nb\nc",,,\n'  # lines 5-7
        "C-3,,,,,\n"  # line 8: one column short
        "C-4,,,,,,\n"  # line 9
    )
    path = write_csv(tmp_path, text)
    units = read(path, mapping, normalizer)
    assert [(type(u).__name__, u.line) for u in units] == [
        ("Observation", 2),
        ("Observation", 5),
        ("Reject", 8),
        ("Observation", 9),
    ]
    first = units[0]
    assert isinstance(first, Observation)
    assert first.attributes == {"first_name": "Ann\r\nMarie"}


def test_invalid_utf8_rejects_only_its_row(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    path = write_csv(tmp_path, f"{HEADER}\nC-1,,,\xff\xfeAnn,,,\nC-2,,,Bob,,,\n".encode("latin-1"))
    units = read(path, mapping, normalizer)
    bad = units[0]
    assert isinstance(bad, Reject)
    assert (bad.line, bad.field) == (2, None)
    assert bad.reason == "invalid UTF-8: invalid start byte at byte 6"
    assert isinstance(units[1], Observation) and units[1].line == 3


def test_line_over_size_limit(tmp_path: Path, mapping: Mapping) -> None:
    normalizer = Normalizer(replace(Config(), max_line_bytes=100))
    path = write_csv(tmp_path, f"{HEADER}\nC-1,,,{'x' * 200},,,\nC-2,,,,,,\n")
    units = read(path, mapping, normalizer)
    assert [(type(u).__name__, u.line) for u in units] == [("Reject", 2), ("Observation", 3)]
    bad = only_reject(units)
    assert bad.reason == "line over size limit"
    assert bad.raw.startswith("C-1,,,xxx")


def test_malformed_csv_row_is_a_reject_and_reading_goes_on(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    huge = "y" * 200_000  # over the csv module's field size limit
    path = write_csv(tmp_path, f'{HEADER}\nC-1,,,"{huge}",,,\nC-2,,,,,,\n')
    units = read(path, mapping, normalizer)
    assert [(type(u).__name__, u.line) for u in units] == [("Reject", 2), ("Observation", 3)]
    assert only_reject(units).reason.startswith("malformed CSV row: field larger than field limit")


def test_bom_header_and_duplicate_identifiers(tmp_path: Path, normalizer: Normalizer) -> None:
    mpath = tmp_path / "m.toml"
    mpath.write_text(
        '[record]\nkey_column = "id"\nkey_type = "crm_id"\n'
        '[identifiers]\nemail = "email"\nwork_email = "email"\n'
    )
    path = write_csv(tmp_path, b"\xef\xbb\xbfid,email,work_email\nA,x@example.com,X@example.com\n")
    (obs,) = read(path, load_mapping(mpath), normalizer)
    assert isinstance(obs, Observation)
    assert obs.identifiers == (("crm_id", "A"), ("email", "x@example.com"))


def test_accepted_plus_rejected_equals_rows_with_reject_writer(
    tmp_path: Path, mapping: Mapping, normalizer: Normalizer
) -> None:
    rows = [f"C-{i},u{i}@example.com,,N{i},,,2024-01-01T00:00:00Z" for i in range(20)]
    rows[3] = "C-3,broken"
    rows[11] = ",x@example.com,,,,,"
    path = write_csv(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    out = tmp_path / "rejects.jsonl"
    out.write_text("stale\n")
    accepted = 0
    with RejectWriter(out) as writer:
        for unit in read(path, mapping, normalizer):
            if isinstance(unit, Observation):
                accepted += 1
            else:
                writer.write(unit)
    assert (accepted, writer.count) == (18, 2)
    assert len(out.read_text().splitlines()) == 2


def test_reject_writer_is_lazy_and_removes_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "rejects.jsonl"
    out.parent.mkdir()
    out.write_text("from an earlier run\n")
    with RejectWriter(out) as writer:
        pass
    assert writer.count == 0 and not out.exists()
    with RejectWriter(out) as writer:
        writer.write(Reject("f.csv", 3, "missing record key", "id", "a,b"))
        writer.close()
        writer.write(Reject("f.csv", 4, "bad \ud800", None, ""))
    assert writer.count == 2
    lines = out.read_text().splitlines()
    assert lines[0] == (
        '{"file": "f.csv", "line": 3, "field": "id", "reason": "missing record key", "raw": "a,b"}'
    )
    assert len(lines) == 2
    with RejectWriter(out, append=True) as writer:
        writer.write(Reject("g.csv", 1, "x"))
    assert len(out.read_text().splitlines()) == 3


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.lists(
        st.one_of(
            st.binary(max_size=50),
            st.text(alphabet=st.sampled_from('C-1,"\n\r x@y.z\t'), max_size=30).map(str.encode),
        ),
        max_size=10,
    )
)
def test_csv_reader_never_raises_and_lines_increase(
    tmp_path: Path, mapping: Mapping, body: list[bytes]
) -> None:
    normalizer = Normalizer(replace(Config(), max_line_bytes=80))
    data = (HEADER + "\n").encode() + b"\n".join(body)
    path = write_csv(tmp_path, data, name="p.csv")
    units = read(path, mapping, normalizer)
    lines = [u.line for u in units]
    assert lines == sorted(set(lines))
    assert all(2 <= n <= data.count(b"\n") + 1 for n in lines)
