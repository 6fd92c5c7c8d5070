// Runs the published Next.js proxy, `createRouteHandler({apiUrl})` from @openpanel/nextjs/server,
// the way the App Router does: the handler gets a web Request and returns a NextResponse.
// stdin:  {"apiUrl": str, "requests": [{"method", "url", "headers", "body"?}]}
// stdout: [{"status", "contentType", "body"}] (one entry per request, in order)
import { createRouteHandler } from "@openpanel/nextjs/server";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { apiUrl, requests } = JSON.parse(input);

const handler = createRouteHandler({ apiUrl });
const results = [];
for (const spec of requests) {
  const request = new Request(spec.url, {
    method: spec.method,
    headers: spec.headers,
    body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
  });
  const response = await handler(request);
  results.push({
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  });
}
console.log(JSON.stringify(results));
