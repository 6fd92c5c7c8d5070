// Makes a given list of @openpanel/sdk calls (awaiting each) and prints what they resolved with
// and the ids the SDK exposes afterwards.
// stdin:  {"options": {apiUrl, clientId, clientSecret, ...}, "calls": [[method, ...args], ...]}
// stdout: {"results": [...], "deviceId": str, "sessionId": str}
import { OpenPanel } from "@openpanel/sdk";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { options, calls } = JSON.parse(input);

const op = new OpenPanel(options);
const results = [];
for (const [method, ...args] of calls) {
  results.push((await op[method](...args)) ?? null);
}
console.log(
  JSON.stringify({ results, deviceId: op.getDeviceId(), sessionId: op.getSessionId() }),
);
