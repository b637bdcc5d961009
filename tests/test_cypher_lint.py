"""The Cypher lint: every cypher/*.cypher file parses and passes Neo4j's semantic analysis with
exactly the parameters its header declares, and the check provably fails on broken queries.

Needs Node.js (>= 20) and npm on PATH; without them these tests fail (they are not skipped), and
the first run installs the pinned linter with `npm ci` in tools/cypher-lint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from identity_graph.cypher_lint import (
    CypherLintError,
    HeaderError,
    LintResult,
    check_header,
    ensure_installed,
    lint_files,
    parse_header,
    used_parameters,
)

REPO = Path(__file__).resolve().parent.parent
CYPHER_DIR = REPO / "cypher"
TOOL_DIR = REPO / "tools" / "cypher-lint"

GOOD = """\
// identifiers_upsert: upsert identifier nodes from a batch
// params: rows (list of {type, value, first_seen, last_seen})
// params: batch_id
UNWIND $rows AS row
MERGE (i:Identifier {type: row.type, value: row.value})
  ON CREATE SET i.first_seen = row.first_seen, i.degree = 0
SET i.last_seen = CASE WHEN i.last_seen IS NULL OR row.last_seen > i.last_seen
                       THEN row.last_seen ELSE i.last_seen END,
    i.batch_id = $batch_id,
    i.note = 'a $literal is not a parameter' // nor is $this one
WITH i
OPTIONAL MATCH (i)-[l:LINKED]-(:Identifier)
WITH i, count(l) AS degree
SET i.degree = degree
RETURN count(i) AS upserted
"""

# name -> (query, what the linter must say about it)
BROKEN = {
    "syntax_error": (
        "// syntax_error: unclosed map\n// params: type\n"
        "MATCH (n:Identifier {type: $type) RETURN n\n",
        "Invalid input",
    ),
    "undefined_variable": (
        "// undefined_variable: returns a variable never bound\n// params: type\n"
        "MATCH (n:Identifier {type: $type}) RETURN m\n",
        "Variable `m` not defined",
    ),
    "undeclared_param": (
        "// undeclared_param: uses a parameter its header does not declare\n"
        "MATCH (n:Identifier {type: $type}) RETURN n\n",
        "Parameter $type is not defined",
    ),
    "unknown_function": (
        "// unknown_function: misspelt function\nMATCH (n:Identifier) RETURN toLowr(n.value)\n",
        "Function toLowr is not present",
    ),
}


def repo_cypher_files() -> list[Path]:
    return sorted(CYPHER_DIR.glob("*.cypher"))


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("cypher")
    queries = {"identifiers_upsert": GOOD} | {name: q for name, (q, _) in BROKEN.items()}
    paths = {}
    for name, query in queries.items():
        paths[name] = directory / f"{name}.cypher"
        paths[name].write_text(query, encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def linted(samples: dict[str, Path]) -> dict[Path, LintResult]:
    """The repository's Cypher files and the samples, linted in one Node.js process."""
    if shutil.which("node") is None:
        pytest.fail(
            "Node.js >= 20 (with npm) must be on PATH for the Cypher lint "
            "(install it from https://nodejs.org/ or with your OS package manager)",
            pytrace=False,
        )
    try:
        ensure_installed(TOOL_DIR)
        results = lint_files([*repo_cypher_files(), *samples.values()], tool_dir=TOOL_DIR)
    except CypherLintError as e:
        pytest.fail(str(e), pytrace=False)
    return {r.file: r for r in results}


def test_repository_cypher_files_lint_clean(linted: dict[Path, LintResult]) -> None:
    problems = [r.format() for path, r in linted.items() if path.parent == CYPHER_DIR and not r.ok]
    assert not problems, "Cypher lint diagnostics:\n" + "\n".join(problems)


def test_repository_cypher_files_declare_exactly_their_params() -> None:
    problems = [
        f"{path}: {problem}" for path in repo_cypher_files() for problem in check_header(path)
    ]
    assert not problems, "Cypher header problems:\n" + "\n".join(problems)


def test_known_good_query_lints_clean(
    samples: dict[str, Path], linted: dict[Path, LintResult]
) -> None:
    path = samples["identifiers_upsert"]
    assert check_header(path) == []
    assert linted[path].diagnostics == [], linted[path].format()


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_query_is_reported(
    name: str, samples: dict[str, Path], linted: dict[Path, LintResult]
) -> None:
    result = linted[samples[name]]
    expected = BROKEN[name][1]
    assert any(d.severity == "error" and expected in d.message for d in result.diagnostics), (
        f"expected an error containing {expected!r}, got:\n{result.format()}"
    )
    # positions are 1-based and point into the file: the query is on line 2 or 3
    assert all(d.line >= 2 and d.column >= 1 for d in result.diagnostics)


def test_parse_header() -> None:
    assert parse_header(GOOD) == ["rows", "batch_id"]
    assert parse_header("// q: no parameters\nRETURN 1") == []
    assert parse_header("// q: explicit\n// params: none\nRETURN 1") == []
    assert parse_header("\n// q: x\n//params: $a, b (a list (nested), of things)\nRETURN 1") == [
        "a",
        "b",
    ]
    # only the leading comment block is the header
    assert parse_header("// q: x\nRETURN $a\n// params: a\n") == []


@pytest.mark.parametrize(
    "params_line",
    ["a b", "a, (orphan description)", "a (unclosed", "a)", "a, a", "1abc"],
)
def test_malformed_params_line_is_an_error(params_line: str) -> None:
    with pytest.raises(HeaderError):
        parse_header(f"// q: x\n// params: {params_line}\nRETURN 1")


def test_used_parameters_ignores_comments_and_literals() -> None:
    query = (
        "// $c1\n/* $c2\n $c3 */ MATCH (n {a: $a, s: 'it''s $s1', d: \"$s2 \\\" $s3\"})\n"
        "WHERE n.`$q` = $`b c` AND n.x IN $list AND n.y = $0 RETURN n, $a"
    )
    assert used_parameters(query) == ["a", "b c", "list", "0"]


def test_undeclared_param_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "profile_get.cypher"
    path.write_text(
        "// profile_get: one profile\n// params: profile_id\n"
        "MATCH (p:Profile {id: $profile_id})<-[:MEMBER_OF]-(i) WHERE i.type = $type RETURN i\n",
        encoding="utf-8",
    )
    assert check_header(path) == ["$type is used but not declared in a '// params:' line"]


def test_unused_declared_param_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "profile_get.cypher"
    path.write_text(
        "// profile_get: one profile\n// params: profile_id, limit\n"
        "MATCH (p:Profile {id: $profile_id}) RETURN p\n",
        encoding="utf-8",
    )
    assert check_header(path) == ["parameter 'limit' is declared but not used"]


def test_header_must_name_the_file_and_precede_a_query(tmp_path: Path) -> None:
    missing = tmp_path / "a.cypher"
    missing.write_text("MATCH (n) RETURN n\n", encoding="utf-8")
    assert any("missing header" in p for p in check_header(missing))
    wrong = tmp_path / "b.cypher"
    wrong.write_text("// c: misnamed\nMATCH (n) RETURN n\n", encoding="utf-8")
    assert check_header(wrong) == ["header names 'c' but the file is 'b.cypher'"]
    empty = tmp_path / "d.cypher"
    empty.write_text("// d: nothing\n/* still nothing */\n", encoding="utf-8")
    assert check_header(empty) == ["no query after the header"]
