"""Masking of identifier values and golden attributes for callers without the `pii` scope.

One function, `mask_body`, applied by `MaskingMiddleware` to every JSON response (problem+json
included) when the caller's key lacks `pii`. It walks the JSON and masks by field name:

    {"type": T, "value": V}          V masked as an identifier of type T (resolve, profiles,
                                     graph nodes)
    {"name": N, "value": V}          V masked as attribute N (stored attributes)
    "golden": {attr: {"value": V}}   V masked as attribute `attr`
    "id" / "identifier" / "a" / "b"  a `type:value` string: the value part masked
    "source" + "target" together     graph edges: both `type:value`
    "identifiers": [...]             each `type:value` masked
    a key with a `:` in it           masked like free text (maps keyed by `type:value`)
    SAFE_KEYS (type, kind, rule...)  left alone: metadata, never PII
    any other string                 free text: e-mail addresses, phone numbers and
                                     `type:value` tokens inside it masked

Masks keep enough to recognise a value you already know and not enough to learn one:
`a***@example.com`, `+44 *** *** 958`, `u_0***`. A non-JSON body on a /v1 route (GraphML)
cannot be walked, so a caller without `pii` gets 403 for it instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

import phonenumbers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import problem_response  # noqa: TID251

MASK = "***"
ID_KEYS = frozenset({"id", "identifier", "a", "b"})
ID_LIST_KEYS = frozenset({"identifiers"})
SAFE_KEYS = frozenset(
    {
        "type",
        "title",
        "kind",
        "rule",
        "rules",
        "sources",
        "source",
        "actor",
        "purpose",
        "record_key",
        "samples",
        "created",
        "updated",
        "timestamp",
        "first_seen",
        "last_seen",
        "as_of",
        "exported_at",
        "name",
        "next_cursor",
        "mode",
        "store",
        "status",
        "field",
        "loc",
        "msg",
    }
)
_EMAIL = re.compile(r"[^\s@<>()\[\]\"',;:]+@[^\s@<>()\[\]\"',;:]+\.[A-Za-z0-9-]+")
_PHONE = re.compile(r"\+\d[\d ().-]{6,20}\d")
_TOKEN = re.compile(r"\b(email|phone|[a-z][a-z0-9]*_id):([^\s,;'\"()\[\]]+)")


def mask_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return mask_generic(value)
    return f"{local[0]}{MASK}@{domain}"


def mask_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) < 6:
        return MASK
    country = ""
    if value.lstrip().startswith("+"):
        try:
            country = str(phonenumbers.parse(value, None).country_code)
        except phonenumbers.NumberParseException:
            country = digits[:2]
    return f"+{country} {MASK} {MASK} {digits[-3:]}" if country else f"{MASK} {MASK} {digits[-3:]}"


def mask_generic(value: str) -> str:
    keep = min(3, len(value) // 2)
    return value[:keep] + MASK


def mask_value(kind: str, value: Any) -> Any:
    """`value` of identifier type or attribute name `kind`, masked."""
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str):
        if isinstance(value, (int, float)):
            return MASK
        return mask_body(value)
    kind = kind.lower()
    if "email" in kind or "@" in value and _EMAIL.fullmatch(value):
        return mask_email(value)
    if "phone" in kind or _PHONE.fullmatch(value):
        return mask_phone(value)
    return mask_generic(value)


def mask_identifier(text: str) -> str:
    """A `type:value` string with its value masked."""
    kind, sep, value = text.partition(":")
    if not sep:
        return mask_text(text)
    return f"{kind}:{mask_value(kind, value)}"


def mask_text(text: str) -> str:
    """Free text with the e-mails, phone numbers and `type:value` tokens inside masked."""
    text = _TOKEN.sub(lambda m: f"{m[1]}:{mask_value(m[1], m[2])}", text)
    text = _EMAIL.sub(lambda m: mask_email(m[0]) if MASK not in m[0] else m[0], text)
    return _PHONE.sub(lambda m: mask_phone(m[0]), text)


def mask_body(data: Any, key: str | None = None) -> Any:
    """`data` (parsed JSON) with every identifier value and golden attribute masked."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        edge = "source" in data and "target" in data
        for k, v in data.items():
            if ":" in k:  # a map keyed by `type:value` (steward results)
                out[mask_text(k)] = mask_body(v, k)
            elif k == "value" and isinstance(data.get("type"), str):
                out[k] = mask_value(data["type"], v)
            elif k == "value" and isinstance(data.get("name"), str):
                out[k] = mask_value(data["name"], v)
            elif k == "golden" and isinstance(v, dict):
                out[k] = {
                    attr: (
                        {**g, "value": mask_value(attr, g.get("value"))}
                        if isinstance(g, dict)
                        else mask_value(attr, g)
                    )
                    for attr, g in v.items()
                }
            elif (k in ID_KEYS or (edge and k in ("source", "target"))) and isinstance(v, str):
                out[k] = mask_identifier(v)
            elif k in ID_LIST_KEYS and isinstance(v, list):
                out[k] = [mask_identifier(x) if isinstance(x, str) else mask_body(x) for x in v]
            elif k in SAFE_KEYS and not isinstance(v, (dict, list)):
                out[k] = v
            else:
                out[k] = mask_body(v, k)
        return out
    if isinstance(data, list):
        return [mask_body(x, key) for x in data]
    if isinstance(data, str):
        return mask_text(data)
    return data


_JSON_TYPES = (b"application/json", b"application/problem+json")


class MaskingMiddleware:
    """Applies `mask_body` to the JSON responses of callers without the `pii` scope.

    The caller is `scope["state"]["principal"]`, set by `auth.authorize`; a request that never
    reached it (401, 404 of an unknown path) is masked too. Dev mode's principal has `pii`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def wrapped(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                principal = scope.get("state", {}).get("principal")
                if principal is not None and getattr(principal, "pii", False):
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._finish(scope, start, b"".join(chunks), receive, send)
                return
            await send(message)

        await self.app(scope, receive, wrapped)

    async def _finish(
        self, scope: Scope, start: Message, body: bytes, receive: Receive, send: Send
    ) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        ctype = next((v for k, v in headers if k == b"content-type"), b"")
        if any(ctype.startswith(t) for t in _JSON_TYPES) and body:
            try:
                body = json.dumps(
                    mask_body(json.loads(body)), ensure_ascii=False, separators=(",", ":")
                ).encode("utf-8")
            except ValueError:
                body = b""
        elif scope["path"].startswith("/v1/") and body and start["status"] < 400:
            refusal = problem_response(
                403,
                "Forbidden",
                "this format carries raw identifier values; it needs a key with the pii scope",
                type_="urn:identity-graph:problem:forbidden",
                required_scope="pii",
            )
            await refusal(scope, receive, send)
            return
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
