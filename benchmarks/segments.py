"""Segment evaluation time: three typical rules at 100k and 1M profiles.

    .venv/bin/python benchmarks/segments.py --profiles 100000,1000000

For each size, a synthetic store is written straight into a temporary SQLite file (the real
schema from `identity_graph.stores.sqlite_schema`, rows inserted with executemany: no ingest,
no clustering), then each rule is compiled by the SQL dialect and timed (median of
`--repeat` runs):

- count: `SELECT count(*)` of the rule (what `segment show` and `/count` run),
- members: every member id in one query (what `segment run` reads before it fills rows),
- page: the first page of 1,000 members (what one `/members` request runs).

Quality next to cost: each rule's count is checked against the count the generator expected
while it wrote the data. The baseline, measured in the same run, is one pass over all events
grouped by profile: the least work any behavioural rule needs. Prints a Markdown table and
the machine; `--json` also writes the figures to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from identity_graph.models import iso  # noqa: E402
from identity_graph.segments.parse import parse_rule  # noqa: E402
from identity_graph.stores.sqlite import SQLiteStore  # noqa: E402
from identity_graph.stores.sqlite_segments import SQLiteSegmentStore  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
COUNTRIES = ["GB"] * 4 + ["FR", "DE", "US", "IE", "ES", "NL"]
TIERS = ["gold"] + ["silver"] * 2 + ["bronze"] * 7


@dataclass
class Truth:
    """What the generator knows about one profile, enough to evaluate the three rules."""

    country: str
    tier: str
    emails: int
    devices: int
    orders_90d: int
    revenue: float
    page_view_last: datetime | None
    marketing: bool | None  # latest email_marketing signal


RULES: dict[str, tuple[dict[str, Any], Callable[[Truth], bool], str]] = {
    "gb_recent_buyers": (
        {
            "all": [
                {"attribute": "country", "equals": "GB"},
                {"event": "Order Completed", "count": {"gte": 2}, "within_days": 90},
            ]
        },
        lambda t: t.country == "GB" and t.orders_90d >= 2,
        "country = GB and 2+ orders in 90 days",
    ),
    "marketable_high_value": (
        {
            "all": [
                {"consent": "email_marketing"},
                {"identifier": "email"},
                {"event": "Order Completed", "sum": {"property": "revenue", "gte": 200}},
            ]
        },
        lambda t: t.marketing is True and t.emails >= 1 and t.revenue >= 200,
        "email-marketing consent, has an email, lifetime revenue >= 200",
    ),
    "lapsed_multi_device": (
        {
            "all": [
                {"identifier": "device_id", "at_least": 2},
                {"not": {"event": "Page Viewed", "last_within_days": 30}},
                {"attribute": "tier", "in": ["gold", "silver"]},
            ]
        },
        lambda t: (
            t.devices >= 2
            and t.tier in ("gold", "silver")
            and (t.page_view_last is None or t.page_view_last < NOW - timedelta(days=30))
        ),
        "2+ devices, no page view in 30 days, tier gold or silver",
    ),
}


@dataclass
class Built:
    path: Path
    profiles: int
    rows: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _batches(rows: Iterator[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[Any]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(path: Path, n: int, seed: int) -> Built:
    """A synthetic store of `n` live profiles with identifiers, events and consent."""
    started = time.perf_counter()
    SQLiteStore(path).init()  # the real schema, then plain inserts on a fast connection
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    secondary = {
        name: sql
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    for name in secondary:
        conn.execute(f"DROP INDEX {name}")  # built again after the load: much faster
    rnd = random.Random(seed)
    built = Built(path, n)
    expected = dict.fromkeys(RULES, 0)
    profiles: list[tuple[Any, ...]] = []
    identifiers: list[tuple[Any, ...]] = []
    observations: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    consent: list[tuple[Any, ...]] = []
    counts = dict.fromkeys(["profiles", "identifiers", "observations", "events", "consent"], 0)
    ident_id = obs_id = 0
    created = iso(NOW - timedelta(days=800))

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO profiles VALUES (?, ?, ?, ?, NULL, ?)", profiles)
        conn.executemany(
            "INSERT INTO identifiers(id, type, value, first_seen, last_seen, profile_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            identifiers,
        )
        conn.executemany("INSERT INTO observations VALUES (?, ?, ?, ?, ?)", observations)
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
        conn.executemany("INSERT INTO consent VALUES (?, ?, ?, ?, ?, ?)", consent)
        conn.execute("COMMIT")
        for name, rows in (
            ("profiles", profiles),
            ("identifiers", identifiers),
            ("observations", observations),
            ("events", events),
            ("consent", consent),
        ):
            counts[name] += len(rows)
            rows.clear()

    for pid in range(1, n + 1):
        country, tier = rnd.choice(COUNTRIES), rnd.choice(TIERS)
        golden = {
            "country": country,
            "tier": tier,
            "age": rnd.randint(18, 80),
            "first_name": f"name{pid % 5000}",
        }
        ids: list[tuple[str, str]] = []
        emails = 1 if rnd.random() < 0.85 else 0
        ids += [("email", f"p{pid}@example.com")] * emails
        if rnd.random() < 0.4:
            ids.append(("phone", f"+4474{pid:08d}"))
        devices = rnd.choice([0, 1, 1, 1, 2, 3])
        ids += [("device_id", f"d{pid}-{k}") for k in range(devices)]
        ids.append(("anonymous_id", f"a{pid}"))
        anchors = []
        for t, v in ids:
            ident_id += 1
            anchors.append(ident_id)
            seen = iso(NOW - timedelta(days=rnd.randint(1, 700)))
            identifiers.append((ident_id, t, v, seen, seen, pid))
        profiles.append(
            (
                pid,
                created,
                created,
                len(ids),
                json.dumps(
                    {
                        k: {"value": v, "source": "bench", "timestamp": created, "rule": "x"}
                        for k, v in golden.items()
                    }
                ),
            )
        )
        orders_90d, revenue, last_view = 0, 0.0, None
        for _ in range(rnd.choice([0, 0, 1, 1, 2, 3, 4])):
            when = NOW - timedelta(days=rnd.randint(0, 364), minutes=rnd.randint(0, 1439))
            amount = rnd.choice([9.99, 25, 49.5, 120, 310])
            obs_id += 1
            anchor = rnd.choice(anchors)
            observations.append((obs_id, "bench", f"o{obs_id}", iso(when), anchor))
            events.append(
                (obs_id, anchor, "Order Completed", json.dumps({"revenue": amount}), iso(when))
            )
            revenue += amount
            orders_90d += when >= NOW - timedelta(days=90)
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            when = NOW - timedelta(days=rnd.randint(0, 200), minutes=rnd.randint(0, 1439))
            obs_id += 1
            anchor = rnd.choice(anchors)
            observations.append((obs_id, "bench", f"o{obs_id}", iso(when), anchor))
            events.append((obs_id, anchor, "Page Viewed", "{}", iso(when)))
            last_view = when if last_view is None else max(last_view, when)
        marketing: bool | None = None
        latest: datetime | None = None
        for _ in range(rnd.choice([0, 1, 1, 2])):
            when = NOW - timedelta(days=rnd.randint(0, 500))
            granted = rnd.random() < 0.6
            obs_id += 1
            anchor = rnd.choice(anchors)
            observations.append((obs_id, "bench", f"o{obs_id}", iso(when), anchor))
            consent.append((obs_id, anchor, "email_marketing", int(granted), "bench", iso(when)))
            if latest is None or (when, not granted) > (latest, not marketing):
                latest, marketing = when, granted
        truth = Truth(country, tier, emails, devices, orders_90d, revenue, last_view, marketing)
        for name, (_, check, _) in RULES.items():
            expected[name] += check(truth)
        if len(events) >= 50_000 or len(identifiers) >= 50_000:
            flush()
    flush()
    for sql in secondary.values():
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    built.rows, built.expected = counts, expected
    built.seconds = time.perf_counter() - started
    return built


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(built: Built, repeat: int) -> list[dict[str, Any]]:
    store = SQLiteStore(built.path)
    segments = SQLiteSegmentStore(store.conn)
    baseline, _ = timed(
        lambda: store.conn.execute(
            "SELECT count(*) FROM (SELECT i.profile_id FROM events e JOIN identifiers i "
            "ON i.id = e.anchor_id GROUP BY i.profile_id)"
        ).fetchone(),
        repeat,
    )
    results = [
        {
            "rule": "baseline",
            "what": "one pass over events grouped by profile",
            "count_s": baseline,
            "members_s": None,
            "page_s": None,
            "matched": None,
            "ok": None,
        }
    ]
    for name, (raw, _, what) in RULES.items():
        rule = parse_rule(raw)
        count_s, count = timed(lambda rule=rule: segments.count(rule, NOW), repeat)
        members_s, ids = timed(
            lambda rule=rule: segments.members(rule, NOW, after=None, limit=None), repeat
        )
        page_s, _ = timed(
            lambda rule=rule: segments.members(rule, NOW, after=None, limit=1000), repeat
        )
        results.append(
            {
                "rule": name,
                "what": what,
                "count_s": count_s,
                "members_s": members_s,
                "page_s": page_s,
                "matched": count,
                "ok": count == built.expected[name] == len(ids),
                "vs_baseline": count_s / baseline if baseline else None,
            }
        )
    store.close()
    return results


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = next(int(ln.split()[1]) for ln in fh if ln.startswith("MemTotal:"))
            mem = f", {kb / 2**20:.1f} GB RAM"
    except (OSError, StopIteration):
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    u = platform.uname()
    return (
        f"{cpu}, nproc={nproc}{mem}, {u.system} {u.release} {u.machine}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="100000,1000000", help="Comma-separated sizes.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per figure (median).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="Also write figures here.")
    parser.add_argument("--dir", type=Path, default=None, help="Where the temporary stores go.")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.profiles.split(",") if s.strip()]
    report: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="segbench-") as tmp:
        for n in sizes:
            print(f"building {n:,} profiles ...", file=sys.stderr, flush=True)
            built = build(Path(tmp) / f"seg-{n}.db", n, args.seed)
            size_mb = built.path.stat().st_size / 2**20
            print(
                f"  built in {built.seconds:.1f} s, {size_mb:.0f} MB: "
                + ", ".join(f"{v:,} {k}" for k, v in built.rows.items()),
                file=sys.stderr,
                flush=True,
            )
            for row in measure(built, args.repeat):
                report.append({"profiles": n, **row, "rows": built.rows, "db_mb": size_mb})
            built.path.unlink()
    print(f"Machine: {machine()}\n")
    print(
        "| profiles | rule | count (s) | all members (s) | first page of 1,000 (s) "
        "| matched | as expected | count / baseline |"
    )
    print("|---:|---|---:|---:|---:|---:|:-:|---:|")
    for r in report:

        def s(x: float | None) -> str:
            return "" if x is None else f"{x:.3f}"

        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        ratio = f"{r['vs_baseline']:.1f}x" if r.get("vs_baseline") else ""
        matched = "" if r["matched"] is None else f"{r['matched']:,}"
        print(
            f"| {r['profiles']:,} | {r['rule']} | {s(r['count_s'])} | {s(r['members_s'])} "
            f"| {s(r['page_s'])} | {matched} | {ok} | {ratio} |"
        )
    print()
    for name, (raw, _, what) in RULES.items():
        print(f"- `{name}`: {what}: `{json.dumps(raw)}`")
    print("- baseline: " + report[0]["what"] if report else "")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": report}, indent=2))
    if any(r["ok"] is False for r in report):
        sys.exit(1)


if __name__ == "__main__":
    main()
