// Composes node subgraphs with Apollo Federation 2 (@apollo/composition), as a gateway
// or router would. Arguments: name=path.graphql … (each a subgraph's SDL). Prints a JSON
// object: {"ok": true, "supergraph": "..."} or {"ok": false, "errors": ["..."]}.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf("=");
  const name = arg.slice(0, at);
  const sdl = readFileSync(arg.slice(at + 1), "utf8");
  return { name, url: `http://${name}.node.invalid/graphql`, typeDefs: parse(sdl) };
});

const result = composeServices(services);
if (result.errors && result.errors.length) {
  console.log(JSON.stringify({ ok: false, errors: result.errors.map((e) => e.message) }));
  process.exit(1);
}
console.log(JSON.stringify({ ok: true, supergraph: result.supergraphSdl }));
