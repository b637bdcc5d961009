"""One structured (JSON) log line per request, on the `identity_graph.api.access` logger.

Fields: `method`, `path` (the route template, e.g. `/v1/profiles/{profile_id}`, never the
concrete path or query string, so no identifier value reaches the log), `status`,
`duration_ms` and `key` (the API key id; `dev` in dev mode, `-` when none was given).
`idgraph serve` sends this logger to stderr; nothing is logged when no handler is attached.
"""

from __future__ import annotations

import json
import logging
import sys

ACCESS_LOGGER = "identity_graph.api.access"
access_log = logging.getLogger(ACCESS_LOGGER)


def log_request(method: str, path: str, status: int, duration_ms: float, key_id: str) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    access_log.info(
        json.dumps(
            {
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(duration_ms, 3),
                "key": key_id,
            },
            separators=(",", ":"),
        )
    )


def configure_access_log() -> None:
    """Plain JSON lines on stderr (the message is the whole line); idempotent."""
    if any(getattr(h, "_idgraph_access", False) for h in access_log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._idgraph_access = True  # type: ignore[attr-defined]
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
