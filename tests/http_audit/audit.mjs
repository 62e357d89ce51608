// The graphql-http server audits (GraphQL over HTTP conformance) against a running hub.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Prints one JSON array: for each audit its id, name, level (MUST/SHOULD/MAY), status
// (ok; else error for a MUST, warn for a SHOULD, notice for a MAY) and, when it failed,
// the reason and the HTTP status of the response.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs <graphql endpoint URL>");
  process.exit(2);
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  const entry = {
    id: result.id,
    name: result.name,
    level: result.name.split(" ")[0],
    status: result.status,
  };
  if (result.status !== "ok") {
    entry.reason = result.reason;
    entry.httpStatus = result.response ? result.response.status : null;
  }
  results.push(entry);
}
console.log(JSON.stringify(results, null, 2));
