"""JSON text of stored columns: orjson where it can, the standard library where it cannot.

orjson writes JSON several times faster than the `json` module, which matters on the ingest
path (every event's properties, every link's evidence, every audit event). It refuses integers
beyond 64 bits, which JSON input may carry; those values fall back to the standard library
with the same compact separators, so stored text keeps one shape. Reading stays with `json`:
orjson would turn such an integer into a float without a word.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
