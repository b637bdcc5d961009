"""Check the Neo4j store's Cypher files with Neo4j's own parser and semantic analysis.

Every query the Neo4j store runs lives in its own file in ``cypher/``, named after the store
method that runs it (``cypher/identifiers_upsert.cypher``). Each file starts with a header
comment block, then the query::

    // identifiers_upsert: upsert identifier nodes from a batch
    // params: rows (list of {type, value, first_seen, last_seen})
    // params: batch_id
    UNWIND $rows AS row
    MERGE (i:Identifier {type: row.type, value: row.value})
    ...

Header format:

- The header is the run of ``//`` comment lines at the top of the file (blank lines before it
  are ignored); the first line that is not a ``//`` comment ends it.
- Its first line is ``// <name>: <description>``, where ``<name>`` is the file name without
  ``.cypher`` (the store method).
- A ``// params: ...`` line declares parameters: a comma-separated list of names, each
  optionally followed by a description in parentheses, which may itself contain commas
  (``rows (list of {type, value})``). A leading ``$`` on a name is allowed. There may be
  several ``params:`` lines; each must be complete on its own line. ``// params: none``
  declares nothing, as does a header without a ``params:`` line.
- Any other header line is free text.

Two checks use the header:

- :func:`check_header` (pure Python): the header is present and names the file, every
  ``$param`` the query uses is declared, and every declared parameter is used.
- :func:`lint_files`: runs ``tools/cypher-lint/lint.mjs`` with the machine's Node.js, which
  lints every file with ``lintCypherQuery`` from the npm package
  ``@neo4j-cypher/language-support`` (syntax, semantic analysis for Cypher 5, deprecations,
  unknown functions and procedures, and ``$params`` not declared in the header). All files are
  linted in one Node process. :func:`ensure_installed` runs ``npm ci`` in ``tools/cypher-lint``
  when its ``node_modules`` is missing or stale.

``python -m identity_graph.cypher_lint [FILE ...]`` runs both checks (by default on every
``cypher/*.cypher``), prints one line per problem and exits 1 if there was any.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from identity_graph.errors import IdentityGraphError

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOL_DIR = REPO_ROOT / "tools" / "cypher-lint"
CYPHER_DIR = REPO_ROOT / "cypher"
LINTER_PACKAGE = "@neo4j-cypher/language-support"
NODE_TIMEOUT_S = 300.0
NPM_TIMEOUT_S = 600.0

_NAME = re.compile(r"\$?([A-Za-z_][A-Za-z0-9_]*)")
_PARAMS_LINE = re.compile(r"params\s*:(.*)", re.IGNORECASE)
_TITLE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:")
# Leftmost-first scan: comments, string literals and quoted identifiers are consumed whole, so a
# `$name` inside them is never taken for a parameter.
_TOKEN = re.compile(
    r"""
      //[^\n]*
    | /\*.*?\*/
    | '(?:[^'\\]|\\.)*'
    | "(?:[^"\\]|\\.)*"
    | `(?:[^`]|``)*`
    | \$(?:`(?P<quoted>(?:[^`]|``)+)`|(?P<name>[^\W\d]\w*|\d+))
    """,
    re.VERBOSE | re.DOTALL,
)


class CypherLintError(IdentityGraphError):
    """The lint could not run (Node.js or npm missing, install failed, harness error)."""


class HeaderError(ValueError):
    """A malformed ``// params:`` line."""


@dataclass(frozen=True)
class Diagnostic:
    """One finding of ``lintCypherQuery``; line and column are 1-based, in the file."""

    severity: str
    message: str
    line: int
    column: int

    def format(self, file: Path | str) -> str:
        return f"{file}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass
class LintResult:
    file: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def format(self) -> str:
        return "\n".join(d.format(self.file) for d in self.diagnostics)


# --- header -------------------------------------------------------------------------------


def header_lines(text: str) -> list[str]:
    """The header's comment lines with ``//`` and surrounding whitespace removed."""
    lines: list[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("//"):
            lines.append(stripped[2:].strip())
        elif stripped or lines:
            break
    return lines


def _split_entries(spec: str) -> list[str]:
    """Split a ``params:`` value on the commas outside parentheses."""
    entries: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise HeaderError(f"unbalanced ')' in 'params: {spec.strip()}'")
        if ch == "," and depth == 0:
            entries.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise HeaderError(f"unclosed '(' in 'params: {spec.strip()}'")
    entries.append("".join(current))
    return entries


def _parse_params_line(spec: str) -> list[str]:
    if spec.strip().lower() in ("", "none"):
        return []
    names: list[str] = []
    for entry in _split_entries(spec):
        entry = entry.strip()
        name = _NAME.match(entry)
        rest = entry[name.end() :].strip() if name else entry
        if name is None or (rest and not (rest.startswith("(") and rest.endswith(")"))):
            raise HeaderError(
                f"bad parameter entry {entry!r} in 'params: {spec.strip()}' "
                "(expected: name or name (description))"
            )
        names.append(name.group(1))
    return names


def parse_header(text: str) -> list[str]:
    """The parameter names declared by the header of a Cypher file, in declaration order.

    Raises :class:`HeaderError` on a malformed ``params:`` line or a name declared twice.
    """
    names: list[str] = []
    for line in header_lines(text):
        match = _PARAMS_LINE.match(line)
        if match is None:
            continue
        for name in _parse_params_line(match.group(1)):
            if name in names:
                raise HeaderError(f"parameter {name!r} is declared twice")
            names.append(name)
    return names


def used_parameters(text: str) -> list[str]:
    """The ``$parameters`` a query uses (outside comments and literals), in first-use order."""
    used: list[str] = []
    for match in _TOKEN.finditer(text):
        quoted, name = match.group("quoted"), match.group("name")
        param = quoted.replace("``", "`") if quoted is not None else name
        if param is not None and param not in used:
            used.append(param)
    return used


def _strip_comments(text: str) -> str:
    return _TOKEN.sub(lambda m: "" if m.group(0).startswith(("//", "/*")) else m.group(0), text)


def check_header(path: Path, text: str | None = None) -> list[str]:
    """Problems with a Cypher file's header and parameters; empty when all is well.

    Checks that the header exists and names the file, that every ``$param`` the query uses is
    declared, that every declared parameter is used, and that there is a query at all.
    """
    if text is None:
        text = path.read_text(encoding="utf-8")
    problems: list[str] = []
    lines = header_lines(text)
    title = _TITLE_LINE.match(lines[0]) if lines else None
    if title is None:
        problems.append(f"missing header: the file must start with '// {path.stem}: <description>'")
    elif title.group(1) != path.stem:
        problems.append(f"header names {title.group(1)!r} but the file is {path.name!r}")
    try:
        declared = parse_header(text)
    except HeaderError as e:
        return [*problems, f"header: {e}"]
    used = used_parameters(text)
    problems += [
        f"${p} is used but not declared in a '// params:' line" for p in used if p not in declared
    ]
    problems += [f"parameter {p!r} is declared but not used" for p in declared if p not in used]
    if not _strip_comments(text).strip():
        problems.append("no query after the header")
    return problems


# --- Node.js harness ----------------------------------------------------------------------


def _which(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise CypherLintError(
            f"{program} is not on PATH: the Cypher lint needs Node.js >= 20 with npm "
            "(https://nodejs.org/ or your OS package manager, e.g. apt-get install nodejs npm)"
        )
    return found


def _pinned_version(tool_dir: Path) -> str | None:
    manifest = json.loads((tool_dir / "package.json").read_text(encoding="utf-8"))
    version = manifest.get("dependencies", {}).get(LINTER_PACKAGE)
    return version if isinstance(version, str) else None


def _installed_version(tool_dir: Path) -> str | None:
    manifest = tool_dir / "node_modules" / LINTER_PACKAGE / "package.json"
    try:
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def ensure_installed(tool_dir: Path = TOOL_DIR) -> None:
    """Run ``npm ci`` in ``tool_dir`` unless the pinned linter package is already installed."""
    installed = _installed_version(tool_dir)
    if installed is not None and installed == _pinned_version(tool_dir):
        return
    npm = _which("npm")
    try:
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=tool_dir,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise CypherLintError(f"npm ci in {tool_dir} timed out after {NPM_TIMEOUT_S:.0f}s") from e
    if proc.returncode != 0 or _installed_version(tool_dir) is None:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise CypherLintError(
            f"npm ci --no-audit --no-fund in {tool_dir} failed (exit {proc.returncode}):\n{tail}"
        )


def _declared_or_empty(text: str) -> list[str]:
    try:
        return parse_header(text)
    except HeaderError:
        return []  # check_header reports it; lint the query anyway


def lint_files(paths: Sequence[Path], tool_dir: Path = TOOL_DIR) -> list[LintResult]:
    """Lint Cypher files with ``lintCypherQuery``, declaring each file's header parameters.

    All files go to one Node.js process. Results are in the order of ``paths``. Raises
    :class:`CypherLintError` if Node.js is missing or the harness fails.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return []
    node = _which("node")
    ensure_installed(tool_dir)
    items = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        items.append({"file": str(path), "query": text, "parameters": _declared_or_empty(text)})
    try:
        proc = subprocess.run(
            [node, str(tool_dir / "lint.mjs")],
            input=json.dumps(items),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise CypherLintError(f"the Cypher lint timed out after {NODE_TIMEOUT_S:.0f}s") from e
    if proc.returncode != 0:
        raise CypherLintError(
            f"the Cypher lint harness failed (exit {proc.returncode}): {proc.stderr.strip()}"
        )
    try:
        raw = json.loads(proc.stdout)
        results = [
            LintResult(
                file=path,
                diagnostics=[
                    Diagnostic(
                        severity=str(d["severity"]),
                        message=str(d["message"]),
                        line=int(d["line"]),
                        column=int(d["column"]),
                    )
                    for d in entry["diagnostics"]
                ],
            )
            for path, entry in zip(paths, raw, strict=True)
        ]
    except (ValueError, KeyError, TypeError) as e:
        raise CypherLintError(f"unexpected output from the Cypher lint harness: {e}") from e
    return results


def cypher_files(directory: Path = CYPHER_DIR) -> list[Path]:
    return sorted(directory.glob("*.cypher"))


def main(argv: Sequence[str] | None = None) -> int:
    """Check the given files (default: every ``cypher/*.cypher``); 1 if any problem."""
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] if args else cypher_files()
    header_problems = {p: check_header(p) for p in paths}
    try:
        failed = [r for r in lint_files(paths) if not r.ok]
    except CypherLintError as e:
        sys.stderr.write(f"cypher-lint: {e}\n")
        return 2
    lines = [f"{p}: {problem}" for p, problems in header_problems.items() for problem in problems]
    lines += [r.format() for r in failed]
    bad = {p for p, problems in header_problems.items() if problems} | {r.file for r in failed}
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stderr.write(f"cypher-lint: {len(paths)} file(s) checked, {len(bad)} with problems\n")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
