"""API keys: roles, scopes, and a keys file that holds only salted hashes.

A key looks like ``idg_<key id>_<secret>``. The key id (8 hex characters) is public: it names
the key in the keys file, in request logs and in metrics. The secret (``secrets.token_urlsafe``)
is shown once, by ``idgraph apikey create``, and stored only as ``hashlib.scrypt`` of the whole
key with a per-key random salt.

The keys file is JSON::

    {"keys": [{"id": "3f2a9c01", "name": "analytics", "role": "reader", "scopes": ["pii"],
               "salt": "<hex>", "hash": "<hex>", "created": "2026-01-05T10:00:00+00:00"}]}

Roles are ordered: ``reader`` < ``steward`` < ``admin``; a key may do what its role and every
role below it may. The ``pii`` scope lets a key read identifier values and golden attributes
unmasked; without it the API masks them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from identity_graph.errors import ConfigError

ROLES: tuple[str, ...] = ("reader", "steward", "admin")
SCOPES: tuple[str, ...] = ("pii",)
KEY_PREFIX = "idg_"

# scrypt cost: about 15-30 ms per check on a small machine; `KeyRing` caches successful checks
# so a key is hashed once per process, not once per request.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_LEN = 32


def role_rank(role: str) -> int:
    return ROLES.index(role)


@dataclass(frozen=True)
class ApiKey:
    """One configured key, as the keys file holds it (no secret)."""

    id: str
    role: str
    salt: str
    hash: str
    name: str = ""
    scopes: tuple[str, ...] = ()
    created: str = ""

    @property
    def pii(self) -> bool:
        return "pii" in self.scopes

    def allows(self, role: str) -> bool:
        return role_rank(self.role) >= role_rank(role)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "scopes": list(self.scopes),
            "salt": self.salt,
            "hash": self.hash,
            "created": self.created,
        }


def _digest(key: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        key.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=_SCRYPT_LEN,
    )


def _parse_key(data: Any, where: str) -> ApiKey:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: each key must be an object")
    try:
        key = ApiKey(
            id=str(data["id"]),
            role=str(data["role"]),
            salt=str(data["salt"]),
            hash=str(data["hash"]),
            name=str(data.get("name", "")),
            scopes=tuple(str(s) for s in data.get("scopes", [])),
            created=str(data.get("created", "")),
        )
    except KeyError as e:
        raise ConfigError(f"{where}: key without {e.args[0]!r}") from e
    if key.role not in ROLES:
        raise ConfigError(f"{where}: key {key.id}: role must be one of {', '.join(ROLES)}")
    unknown = set(key.scopes) - set(SCOPES)
    if unknown:
        raise ConfigError(f"{where}: key {key.id}: unknown scope {sorted(unknown)[0]!r}")
    try:
        bytes.fromhex(key.salt)
        bytes.fromhex(key.hash)
    except ValueError as e:
        raise ConfigError(f"{where}: key {key.id}: salt and hash must be hex") from e
    return key


def read_keys(path: Path) -> list[ApiKey]:
    """The keys in `path`; an absent file is an error (a typo must not mean 'no auth')."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"API keys file not found: {path}") from e
    except OSError as e:
        raise ConfigError(f"cannot read API keys file {path}: {e.strerror}") from e
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from e
    items = data.get("keys", []) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f'{path}: expected {{"keys": [...]}}')
    keys = [_parse_key(item, str(path)) for item in items]
    ids = [k.id for k in keys]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: duplicate key id")
    return keys


def create_key(path: Path, role: str, *, pii: bool = False, name: str = "") -> tuple[str, ApiKey]:
    """Add a new key to `path` (created when absent); returns the plaintext key, once."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    keys = read_keys(path) if path.exists() else []
    taken = {k.id for k in keys}
    key_id = secrets.token_hex(4)
    while key_id in taken:
        key_id = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_bytes(16)
    record = ApiKey(
        id=key_id,
        role=role,
        salt=salt.hex(),
        hash=_digest(plaintext, salt).hex(),
        name=name,
        scopes=("pii",) if pii else (),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    payload = {"keys": [k.to_json() for k in [*keys, record]]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return plaintext, record


@dataclass
class KeyRing:
    """The configured keys of one server process, and `verify(presented) -> ApiKey | None`."""

    keys: list[ApiKey]
    _by_id: dict[str, ApiKey] = field(init=False)
    _verified: dict[bytes, ApiKey] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _slow: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._by_id = {k.id: k for k in self.keys}

    @classmethod
    def from_file(cls, path: Path | None) -> KeyRing:
        return cls(read_keys(path) if path is not None else [])

    @property
    def enabled(self) -> bool:
        """False when no key is configured: the server then runs open, on loopback only."""
        return bool(self.keys)

    def cached(self, presented: str) -> ApiKey | None:
        """The key when `presented` was verified before in this process (no hashing)."""
        fast = hashlib.sha256(presented.encode("utf-8")).digest()
        with self._lock:
            return self._verified.get(fast)

    def verify(self, presented: str) -> ApiKey | None:
        """The key `presented` is, or None. Slow (scrypt) the first time per key; one check
        at a time, so a burst of requests with a new key hashes it once."""
        if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
            return None
        # Cache of keys already checked, by a fast digest (never the key itself).
        fast = hashlib.sha256(presented.encode("utf-8")).digest()
        with self._lock:
            hit = self._verified.get(fast)
        if hit is not None:
            return hit
        with self._slow:
            return self._verify_slow(presented, fast)

    def _verify_slow(self, presented: str, fast: bytes) -> ApiKey | None:
        with self._lock:
            hit = self._verified.get(fast)
        if hit is not None:
            return hit
        key_id = presented[len(KEY_PREFIX) :].split("_", 1)[0]
        record = self._by_id.get(key_id)
        if record is None:
            return None
        if not hmac.compare_digest(
            _digest(presented, bytes.fromhex(record.salt)), bytes.fromhex(record.hash)
        ):
            return None
        with self._lock:
            self._verified[fast] = record
        return record
