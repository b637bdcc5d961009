"""Segments: a small rule language over profiles, compiled into one store query.

`parse.parse_rule` validates a rule (JSON data) into the tree of `model`; a `dialect.Dialect`
compiles the tree (`sql.SqliteDialect` for SQLite); `service.SegmentService` runs the use
cases over a store. The language is documented in docs/segments.md.
"""

from identity_graph.segments.model import Condition
from identity_graph.segments.parse import RuleError, load_rule_file, parse_rule

__all__ = ["Condition", "RuleError", "load_rule_file", "parse_rule"]
