// The reference reading of SPARQL queries and updates for tests/test_guard.py: sparqljs (a
// complete SPARQL 1.1 parser) reads each text and says what the query guard must find in it.
// One JSON object a line in ({"text", "update", "base"}), one a line out.
"use strict";
const readline = require("readline");
const { Parser } = require("sparqljs");

// Every SERVICE endpoint anywhere in the parsed text (groups, EXISTS, subqueries, update WHERE).
function services(node, found) {
  if (Array.isArray(node)) {
    node.forEach((item) => services(item, found));
  } else if (node && typeof node === "object") {
    if (node.type === "service") {
      found.push(node.name.termType === "Variable" ? null : node.name.value);
    }
    Object.values(node).forEach((value) => services(value, found));
  }
  return found;
}

function read(request) {
  const parsed = new Parser({ baseIRI: request.base }).parse(request.text);
  if (request.update) {
    const operations = parsed.updates || [];
    return { loads: operations.filter((op) => op.type === "load").length, services: services(operations, []) };
  }
  const from = parsed.from || { default: [], named: [] };
  return {
    form: parsed.queryType,
    has_dataset_clause: from.default.length + from.named.length > 0,
    services: services(parsed.where || [], []),
  };
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let answer;
  try {
    answer = { ok: true, ...read(JSON.parse(line)) };
  } catch (error) {
    answer = { ok: false, error: String(error.message || error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
