"""The HTTP API of identity-graph (FastAPI), imported as ``identity_graph.api``.

Build it with ``identity_graph.api.app.create_app(Settings(...))``: nothing here creates an app,
a store or settings at import time. Routes are thin: parse the request, call
``identity_graph.service.IdentityService``, shape the response. Errors become RFC 9457
problem+json responses in one place, ``identity_graph.api.errors``.
"""
