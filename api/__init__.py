"""The HTTP API of identity-graph (FastAPI), imported as ``identity_graph.api``.

Build it with ``identity_graph.api.app.create_app(Settings(...))``: nothing here creates an app,
a store or settings at import time. Routes are thin: parse the request, call
``identity_graph.service.IdentityService``, shape the response. Errors become RFC 9457
problem+json responses in one place, ``identity_graph.api.errors``.

Modules here import each other relatively (``from .deps import ...``): at run time that is
``identity_graph.api.deps``, and it is the only spelling mypy can follow, since it sees this
folder as ``api`` and cannot map ``identity_graph.api`` onto it. Ruff reads such an import as
the banned top-level ``api`` (TID251), hence the ``noqa`` on those lines; a bare ``import api``
stays banned everywhere.
"""
