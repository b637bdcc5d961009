"""Prometheus metrics (hand-written text exposition, format 0.0.4) and the middleware that
records them and writes the request log line.

    idgraph_http_requests_total{method,route,status}             counter
    idgraph_http_request_duration_seconds{method,route,status}   histogram
    idgraph_ingest_events_total{outcome}                         counter: accepted, rejected,
                                                                 duplicate (from POST /v1/ingest)
    idgraph_profiles                                             gauge, read at scrape time

`route` is the route template (`/v1/profiles/{profile_id}`), or `unmatched`: never a concrete
path, so no identifier value becomes a label. Each uvicorn worker keeps its own figures; with
`--workers N` a scrape sees the worker that answered it (sum over scrapes / use one worker
per scrape target if exact totals matter).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import route_template  # noqa: TID251
from .request_log import log_request  # noqa: TID251

BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
INGEST_ROUTE = ("POST", "/v1/ingest")
PROMETHEUS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[str, str, str]


class Metrics:
    """The figures of one process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[Labels, int] = {}
        self.buckets: dict[Labels, list[int]] = {}
        self.sums: dict[Labels, float] = {}
        self.ingest: dict[str, int] = {"accepted": 0, "rejected": 0, "duplicate": 0}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        with self._lock:
            self.requests[labels] = self.requests.get(labels, 0) + 1
            counts = self.buckets.setdefault(labels, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[labels] = self.sums.get(labels, 0.0) + seconds

    def count_ingest(self, accepted: int, rejected: int, duplicate: int) -> None:
        with self._lock:
            self.ingest["accepted"] += accepted
            self.ingest["rejected"] += rejected
            self.ingest["duplicate"] += duplicate

    def render(self, profiles: int | None) -> str:
        out: list[str] = []
        with self._lock:
            out.append("# HELP idgraph_http_requests_total HTTP requests answered.")
            out.append("# TYPE idgraph_http_requests_total counter")
            for labels, n in sorted(self.requests.items()):
                out.append(f"idgraph_http_requests_total{{{_labels(labels)}}} {n}")
            out.append("# HELP idgraph_http_request_duration_seconds Time to answer a request.")
            out.append("# TYPE idgraph_http_request_duration_seconds histogram")
            name = "idgraph_http_request_duration_seconds"
            for labels, counts in sorted(self.buckets.items()):
                base = _labels(labels)
                for bound, n in zip(BUCKETS, counts, strict=True):
                    out.append(f'{name}_bucket{{{base},le="{bound}"}} {n}')
                out.append(f'{name}_bucket{{{base},le="+Inf"}} {self.requests[labels]}')
                out.append(f"{name}_sum{{{base}}} {self.sums[labels]:.6f}")
                out.append(f"{name}_count{{{base}}} {self.requests[labels]}")
            out.append("# HELP idgraph_ingest_events_total Events received by POST /v1/ingest.")
            out.append("# TYPE idgraph_ingest_events_total counter")
            for outcome, n in self.ingest.items():
                out.append(f'idgraph_ingest_events_total{{outcome="{outcome}"}} {n}')
        if profiles is not None:
            out.append("# HELP idgraph_profiles Live profiles in the store.")
            out.append("# TYPE idgraph_profiles gauge")
            out.append(f"idgraph_profiles {profiles}")
        return "\n".join(out) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    method, route, status = labels
    return f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'


class ObservabilityMiddleware:
    """Times every HTTP request, then records it in `metrics` and writes its log line."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()
        status = 500
        ingest_body: list[bytes] | None = None

        async def wrapped(message: Message) -> None:
            nonlocal status, ingest_body
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if (scope["method"], route_template(scope)) == INGEST_ROUTE and status == 200:
                    ingest_body = []
            elif message["type"] == "http.response.body" and ingest_body is not None:
                ingest_body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            elapsed = self.clock() - started
            route = route_template(scope) or "unmatched"
            method = scope["method"]
            self.metrics.observe(method, route, status, elapsed)
            if ingest_body is not None:
                self._count_ingest(b"".join(ingest_body))
            principal = scope.get("state", {}).get("principal")
            log_request(method, route, status, elapsed * 1000, getattr(principal, "key_id", "-"))

    def _count_ingest(self, body: bytes) -> None:
        try:
            data = json.loads(body)
            self.metrics.count_ingest(
                int(data["accepted"]), int(data["rejected"]), int(data["duplicates"])
            )
        except (ValueError, KeyError, TypeError):
            pass
