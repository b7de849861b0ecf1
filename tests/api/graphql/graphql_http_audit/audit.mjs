// Runs graphql-http's auditServer against a server and prints one JSON line of results.
//   node audit.mjs <url> [header-name header-value ...]
// Extra headers go on every request (for example a token), through a custom fetch.
import { auditServer } from "graphql-http";

const [url, ...pairs] = process.argv.slice(2);
const extra = {};
for (let i = 0; i + 1 < pairs.length; i += 2) {
  extra[pairs[i]] = pairs[i + 1];
}

function fetchWithHeaders(input, init = {}) {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(extra)) {
    headers.set(name, value);
  }
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: fetchWithHeaders });
const report = [];
for (const result of results) {
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    entry.reason = result.reason;
    entry.response = result.response
      ? { status: result.response.status, body: await result.response.text() }
      : null;
  }
  report.push(entry);
}
console.log(JSON.stringify(report));
