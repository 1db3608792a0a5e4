#!/usr/bin/env node
// Lint Cypher with Neo4j's own Cypher 5 parser and semantic analysis
// (@neo4j-cypher/language-support, the engine behind Neo4j Browser and the VS Code plugin).
//
// stdin:  JSON [{"name": string, "query": string, "parameters"?: object}, ...]
// stdout: JSON [{"name", "errors": [diagnostic], "warnings": [diagnostic]}, ...]
//         diagnostic = {"severity", "message", "line", "column", "offset", "excerpt"}
//         (excerpt: the flagged text, first line only, at most 80 characters;
//         line and column are 1-based; offset is 0-based into the query text).
// exit:   0 no errors, 1 at least one query has errors, 2 unusable input.
//
// The schema handed to the linter is Neo4j 5's built-in function and procedure catalogue as
// shipped in the package, without APOC and GDS: the production image runs no plugins, so a
// call to either (or to a FalkorDB-only function such as vecf32) is reported as an error.
// Every $parameter a query uses is declared (the application always sends them through the
// driver); values given in "parameters" are passed on for type checks.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

// The package's ESM build uses extension-less imports that Node cannot resolve; its CommonJS
// build works everywhere.
const require = createRequire(import.meta.url);
const { lintCypherQuery, parseParameters, testData } = require('@neo4j-cypher/language-support');

const CYPHER_VERSION = 'CYPHER 5';
const PLUGIN_PREFIXES = ['apoc.', 'gds.'];
const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

function withoutPlugins(registry) {
  const kept = {};
  for (const [name, entry] of Object.entries(registry ?? {})) {
    if (!PLUGIN_PREFIXES.some((prefix) => name.startsWith(prefix))) kept[name] = entry;
  }
  return kept;
}

function neo4jCatalogue() {
  const { functions, procedures } = testData.mockSchema;
  return {
    functions: { [CYPHER_VERSION]: withoutPlugins(functions[CYPHER_VERSION]) },
    procedures: { [CYPHER_VERSION]: withoutPlugins(procedures[CYPHER_VERSION]) },
    defaultLanguage: CYPHER_VERSION,
  };
}

function declaredParameters(query, given) {
  const declared = {};
  let names = [];
  try {
    names = parseParameters(query);
  } catch {
    names = [...query.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  }
  for (const name of names) declared[name] = null;
  return { ...declared, ...(given ?? {}) };
}

function toDiagnostic(query, diagnostic) {
  const start = diagnostic.offsets?.start ?? 0;
  const end = diagnostic.offsets?.end ?? start;
  return {
    severity: SEVERITY[diagnostic.severity] ?? String(diagnostic.severity),
    message: diagnostic.message,
    line: (diagnostic.range?.start?.line ?? 0) + 1,
    column: (diagnostic.range?.start?.character ?? 0) + 1,
    offset: start,
    excerpt: query.slice(start, Math.max(end, start + 1)).split('\n')[0].slice(0, 80),
  };
}

function lintOne(catalogue, { name, query, parameters }) {
  if (typeof name !== 'string' || typeof query !== 'string') {
    throw new TypeError('every entry needs a string "name" and a string "query"');
  }
  const schema = { ...catalogue, parameters: declaredParameters(query, parameters) };
  const diagnostics = lintCypherQuery(query, schema).map((d) => toDiagnostic(query, d));
  return {
    name,
    errors: diagnostics.filter((d) => d.severity === 'error'),
    warnings: diagnostics.filter((d) => d.severity !== 'error'),
  };
}

function main() {
  let entries;
  try {
    entries = JSON.parse(readFileSync(0, 'utf8'));
    if (!Array.isArray(entries)) throw new TypeError('expected a JSON array');
  } catch (error) {
    process.stderr.write(`cypher-lint: unusable input: ${error.message}\n`);
    return 2;
  }
  const catalogue = neo4jCatalogue();
  let results;
  try {
    results = entries.map((entry) => lintOne(catalogue, entry));
  } catch (error) {
    process.stderr.write(`cypher-lint: ${error.message}\n`);
    return 2;
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return results.some((r) => r.errors.length > 0) ? 1 : 0;
}

process.exitCode = main();
