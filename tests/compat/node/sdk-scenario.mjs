// Calls every public method of the published @openpanel/sdk against a live appliance, awaiting
// each call so the server sees them in order, and prints one JSON object on stdout:
//   {responses: {<step>: <what the SDK resolved with>}, ids: {<moment>: {deviceId, sessionId}}}
// Configuration comes from the environment: OP_API_URL, OP_CLIENT_ID, OP_CLIENT_SECRET.
import { OpenPanel } from "@openpanel/sdk";

const { OP_API_URL: apiUrl, OP_CLIENT_ID: clientId, OP_CLIENT_SECRET: clientSecret } =
  process.env;
if (!apiUrl || !clientId || !clientSecret) {
  console.error("set OP_API_URL, OP_CLIENT_ID and OP_CLIENT_SECRET");
  process.exit(2);
}

const op = new OpenPanel({ apiUrl, clientId, clientSecret });
const profileId = "node-user-1";
const responses = {};
const ids = {};
const snapshot = (moment) => {
  ids[moment] = { deviceId: op.getDeviceId(), sessionId: op.getSessionId() };
};

snapshot("before_any_call");
responses.track = await op.track("node_track", {
  str: "a",
  num: 1.5,
  bool: true,
  nil: null,
  arr: [1, "b"],
  nested: { k: "v", deep: { x: 2 } },
});
snapshot("after_track");

op.setGlobalProperties({ app_version: "1.2.3", env: "compat" });
responses.globals = await op.track("node_globals", { local: 1 });

responses.identify = await op.identify({
  profileId,
  firstName: "Ada",
  lastName: "Lovelace",
  email: "ada@example.com",
  avatar: "https://example.com/ada.png",
  properties: { plan: "pro", seats: 3 },
});
responses.after_identify = await op.track("node_after_identify", { step: 1 });
responses.explicit_profile = await op.track("node_explicit_profile", {
  profileId: "node-user-explicit",
});

responses.increment_by_5 = await op.increment({ profileId, property: "visits", value: 5 });
responses.increment_default = await op.increment({ profileId, property: "visits" });
responses.decrement_by_2 = await op.decrement({ profileId, property: "visits", value: 2 });
responses.decrement_default = await op.decrement({ profileId, property: "credits" });

responses.upsert_group = await op.upsertGroup({
  id: "org_1",
  type: "company",
  name: "Acme",
  properties: { tier: "gold" },
});
responses.set_group = await op.setGroup("org_1");
responses.set_groups = await op.setGroups(["org_1", "team_2"]);
responses.grouped = await op.track("node_grouped", { groups: ["extra_grp"] });

responses.revenue = await op.revenue(1999, { currency: "USD" });
// alias() is a deprecated no-op in 1.3.1: nothing is sent and nothing is returned.
responses.alias = op.alias({ profileId, alias: "ada-alias" }) ?? null;
snapshot("before_clear");

op.clear();
snapshot("after_clear");
responses.after_clear = await op.track("node_after_clear", { step: 2 });
snapshot("after_clear_track");

console.log(JSON.stringify({ responses, ids }));
