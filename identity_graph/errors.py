"""One exception tree for identity-graph.

    IdentityGraphError
     +-- InputError        bad user input; carries file, line and field when known
     +-- ConfigError       invalid configuration or mapping file
     +-- NotFound          an identifier, profile or segment that does not exist
     +-- ConflictError     a request that contradicts stored state
     +-- StoreError        the backing store failed
          +-- StoreUnavailable   the store cannot be reached or opened

The CLI maps these to one-line messages and exit codes in one place (`cli.py`); the API maps
them to problem+json responses in one place (`api/errors.py`). Backend errors are chained with
``raise ... from e`` so the cause is never lost.
"""

from __future__ import annotations


class IdentityGraphError(Exception):
    """Base class of every error identity-graph raises on purpose."""


class InputError(IdentityGraphError):
    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        if self.field:
            where = f"{where} field {self.field!r}" if where else f"field {self.field!r}"
        return f"{where}: {self.message}" if where else self.message


class ConfigError(IdentityGraphError):
    pass


class NotFound(IdentityGraphError):
    pass


class ConflictError(IdentityGraphError):
    pass


class StoreError(IdentityGraphError):
    pass


class StoreUnavailable(StoreError):
    pass
