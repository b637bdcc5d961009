// Lint Cypher queries with Neo4j's own parser and semantic analysis
// (@neo4j-cypher/language-support, lintCypherQuery).
//
// Input (file path in argv[2], or stdin when absent or "-"): a JSON array of
//   {"file": "cypher/x.cypher", "query": "<text>", "parameters": ["name", ...]}
// `parameters` may also be an object {name: value}; only the names matter (they
// declare which $params exist; anything else is reported as undefined).
//
// Output (stdout): a JSON array, in input order, of
//   {"file": ..., "diagnostics": [{"severity", "message", "line", "column"}]}
// with 1-based line and column, relative to the start of `query`.
// severity is "error", "warning", "information" or "hint".
//
// Exit status: 0 when every query was linted (whatever the diagnostics),
// 2 on a harness error (bad input, broken installation), with a message on stderr.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The package's ESM build uses extensionless imports that Node cannot resolve;
// its CommonJS bundle works, so load it through require.
const require = createRequire(import.meta.url);

const CYPHER_VERSION = 'CYPHER 5';
const SEVERITIES = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };
// Procedures that ship with Neo4j itself (no plugins such as APOC or GDS).
const BUILT_IN_PROCEDURE = /^(db|dbms|tx)\./;

function fail(message) {
  process.stderr.write(`cypher-lint: ${message}\n`);
  process.exit(2);
}

function readInput() {
  const source = process.argv[2];
  try {
    return readFileSync(source === undefined || source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    return fail(`cannot read input ${source ?? '<stdin>'}: ${err.message}`);
  }
}

function parseInput(text) {
  let items;
  try {
    items = JSON.parse(text);
  } catch (err) {
    return fail(`input is not JSON: ${err.message}`);
  }
  if (!Array.isArray(items)) fail('input must be a JSON array of {file, query, parameters}');
  items.forEach((item, i) => {
    const where = `input[${i}]`;
    if (item === null || typeof item !== 'object') fail(`${where} is not an object`);
    if (typeof item.file !== 'string') fail(`${where}.file must be a string`);
    if (typeof item.query !== 'string') fail(`${where}.query must be a string`);
    const params = item.parameters ?? [];
    const ok =
      typeof params === 'object' &&
      (!Array.isArray(params) || params.every((n) => typeof n === 'string'));
    if (!ok) fail(`${where}.parameters must be a list of names or an object`);
  });
  return items;
}

function loadLinter() {
  let lib;
  try {
    lib = require('@neo4j-cypher/language-support');
  } catch (err) {
    return fail(
      `cannot load @neo4j-cypher/language-support (${err.message}); ` +
        'run `npm ci --no-audit --no-fund` in tools/cypher-lint',
    );
  }
  // Declare Neo4j's built-in functions and procedures, so that a misspelt or
  // plugin-only (apoc.*, gds.*) function or procedure is reported. The package
  // ships the signatures of a Neo4j 5 server as `testData.mockSchema`.
  const mock = lib.testData?.mockSchema ?? {};
  const functions = Object.fromEntries(
    Object.entries(mock.functions?.[CYPHER_VERSION] ?? {}).filter(([, f]) => f.isBuiltIn),
  );
  const procedures = Object.fromEntries(
    Object.entries(mock.procedures?.[CYPHER_VERSION] ?? {}).filter(([name]) =>
      BUILT_IN_PROCEDURE.test(name),
    ),
  );
  if (Object.keys(functions).length === 0 || Object.keys(procedures).length === 0) {
    fail('the installed @neo4j-cypher/language-support has no built-in function list');
  }
  return { lint: lib.lintCypherQuery, functions, procedures };
}

function schemaFor(linter, parameters) {
  const params = parameters ?? [];
  const names = Array.isArray(params) ? params : Object.keys(params);
  // lintCypherQuery reports `$p` as undefined when dbSchema.parameters[p] === undefined;
  // the value itself is not used by the checks, so null declares the name.
  return {
    defaultLanguage: CYPHER_VERSION,
    parameters: Object.fromEntries(names.map((name) => [name, null])),
    functions: { [CYPHER_VERSION]: linter.functions },
    procedures: { [CYPHER_VERSION]: linter.procedures },
  };
}

function lintOne(linter, query, parameters) {
  return linter.lint(query, schemaFor(linter, parameters)).map((d) => ({
    severity: SEVERITIES[d.severity] ?? 'error',
    message: d.message,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
  }));
}

// lintCypherQuery silently drops the semantic analysis if it throws, which would let
// every query pass. Prove both the syntax and the semantic checks work before trusting them.
function selfTest(linter) {
  const syntax = lintOne(linter, 'MATCH (n {type: $type) RETURN n', ['type']);
  const semantic = lintOne(linter, 'MATCH (n) RETURN m', []);
  if (syntax.length === 0 || !semantic.some((d) => d.message.includes('`m` not defined'))) {
    fail('self-test failed: the linter no longer reports known-broken queries');
  }
}

const items = parseInput(readInput());
const linter = loadLinter();
selfTest(linter);
const results = items.map((item) => ({
  file: item.file,
  diagnostics: lintOne(linter, item.query, item.parameters),
}));
process.stdout.write(JSON.stringify(results) + '\n');
