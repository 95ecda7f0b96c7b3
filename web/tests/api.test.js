// Run with: node --test web/tests/
// api.js and the Tally-Position token (issue #16) against a stand-in for fetch and the browser's storage:
// the token is sent with every request once there is one, merged from every answer (errors too), dropped
// with the session or for another household, and a 503 not-caught-up is sent again after Retry-After.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

class MemoryStorage {
  constructor() { this.items = new Map(); }

  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }

  setItem(key, value) { this.items.set(key, String(value)); }

  removeItem(key) { this.items.delete(key); }

  clear() { this.items.clear(); }
}

const root = { attributes: new Set(), toggleAttribute(name, on) { if (on) this.attributes.add(name); else this.attributes.delete(name); } };
globalThis.sessionStorage = new MemoryStorage();
globalThis.localStorage = new MemoryStorage();
globalThis.document = { documentElement: root };
const events = [];
globalThis.window = { dispatchEvent: (event) => events.push(event.type) };
globalThis.CustomEvent ??= class extends Event {
  constructor(type, init = {}) { super(type); this.detail = init.detail; }
};

const T1 = "3f2a8c1e-9b7d-4c2a-8e1f-0a1b2c3d4e5f";
const T2 = "7c1d0e2f-1a2b-4c3d-9e8f-112233445566";
const NOT_CAUGHT_UP = "https://tally.dev/problems/not-caught-up";

/** An access token as the auth service writes one (only its claims matter to the client). */
function accessToken(tenant) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "EdDSA" })}.${part({ sub: "u-1", tid: tenant })}.c2ln`;
}

let sent = []; // { path, method, position, body } per fetch
let answers = []; // what fetch answers next, in order: { status, body, headers }

globalThis.fetch = async (url, init) => {
  sent.push({ path: url, method: init.method, position: init.headers["Tally-Position"] ?? null, body: init.body,
    busy: root.attributes.has("data-api-busy") });
  const { status = 200, body = {}, headers = {} } = answers.shift() ?? {};
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status, headers: { "Content-Type": type, ...headers },
  });
};

const { ApiError, api, currentPosition, forgetSession, retryAfterMs, signIn, signOut } = await import("../js/api.js");

function notCaughtUp(extra = {}) {
  return { status: 503, body: { type: NOT_CAUGHT_UP, title: "Not caught up", status: 503 },
    headers: { "Retry-After": "0", ...extra } };
}

beforeEach(() => {
  forgetSession();
  sent = [];
  answers = [];
  events.length = 0;
});

test("no token is sent before there is one; the first one received is kept and then sent", async () => {
  answers = [{ status: 201, body: {}, headers: { "Tally-Position": `tenant=${T1};auth=12` } }, {}];
  await api("/auth/register", { method: "POST", body: {}, auth: false });
  assert.equal(sent[0].position, null);
  assert.equal(currentPosition(), `tenant=${T1};auth=12`);
  assert.equal(sessionStorage.getItem("tally.position"), `tenant=${T1};auth=12`);
  await api("/ledger/categories");
  assert.equal(sent[1].position, `tenant=${T1};auth=12`);
});

test("every answer's token is merged, error answers too", async () => {
  answers = [
    { headers: { "Tally-Position": `tenant=${T1};auth=12` } },
    { status: 404, body: { detail: "no such account" }, headers: { "Tally-Position": `tenant=${T1};ledger=345;auth=3` } },
    { status: 201, headers: { "Tally-Position": `tenant=${T1};ledger=346;budget=2` } },
    { headers: { "Tally-Position": "not a token" } },
    {},
  ];
  await api("/auth/me");
  await assert.rejects(api("/ledger/accounts/x"), (error) => error instanceof ApiError && error.status === 404);
  assert.equal(currentPosition(), `tenant=${T1};auth=12;ledger=345`);
  await api("/ledger/transactions", { method: "POST", body: { amount_minor: 1 } });
  await api("/budget/budgets");
  await api("/budget/budgets");
  assert.equal(sent[3].position, `tenant=${T1};auth=12;ledger=346;budget=2`);
  assert.equal(sent[4].position, `tenant=${T1};auth=12;ledger=346;budget=2`, "a malformed header changes nothing");
});

test("a 503 not-caught-up is sent again, the same request, and its answer is the result", async () => {
  answers = [{ headers: { "Tally-Position": `tenant=${T1};auth=12` } }, notCaughtUp(), { status: 201, body: { id: "b-1" } }];
  await api("/auth/me");
  const created = await api("/budget/budgets", { method: "POST", body: { amount_minor: 100 } });
  assert.deepEqual(created, { id: "b-1" });
  assert.equal(sent.length, 3);
  assert.deepEqual(sent[2], { ...sent[1] });
  assert.equal(sent[2].method, "POST");
  assert.equal(sent[2].body, JSON.stringify({ amount_minor: 100 }));
  assert.equal(sent[2].position, `tenant=${T1};auth=12`);
});

test("at most twice more: then the error is the person's to see", async () => {
  answers = [notCaughtUp(), notCaughtUp(), notCaughtUp(), {}];
  await assert.rejects(api("/ledger/categories"), (error) => {
    assert.equal(error.status, 503);
    assert.equal(error.message, "api.notCaughtUp"); // the key: no strings are loaded in this test
    assert.equal(error.problem.type, NOT_CAUGHT_UP);
    return true;
  });
  assert.equal(sent.length, 3);
});

test("another 503 is not sent again", async () => {
  answers = [{ status: 503, body: { title: "Service Unavailable", status: 503 }, headers: { "Retry-After": "0" } }];
  await assert.rejects(api("/ledger/categories"), (error) => error.status === 503 && error.message === "api.status.503");
  assert.equal(sent.length, 1);
});

test("Retry-After: seconds, an HTTP date, or one second; never more than ten", () => {
  const after = (value) => retryAfterMs(new Response(null, { status: 503, headers: value === null ? {} : { "Retry-After": value } }));
  assert.equal(after("1"), 1000);
  assert.equal(after("0"), 0);
  assert.equal(after(null), 1000);
  assert.equal(after("soon"), 1000);
  assert.equal(after("3600"), 10000);
  assert.equal(after(new Date(Date.now() - 5000).toUTCString()), 0);
  const inFive = after(new Date(Date.now() + 5000).toUTCString());
  assert.ok(inFive > 3000 && inFive <= 5000, String(inFive));
});

test("signing out forgets the token", async () => {
  answers = [{ headers: { "Tally-Position": `tenant=${T1};auth=12` } }, { status: 204 }, {}];
  await api("/auth/me");
  await signOut();
  assert.equal(currentPosition(), null);
  assert.equal(sessionStorage.getItem("tally.position"), null);
  await api("/auth/me", { auth: false });
  assert.equal(sent[2].position, null);
});

test("a lost session forgets it too", async () => {
  answers = [
    { body: { access_token: accessToken(T1) }, headers: { "Tally-Position": `tenant=${T1};auth=12` } },
    { status: 401, body: {} }, // the access token is refused…
    { status: 401, body: {} }, // …and the refresh cookie too
  ];
  await signIn("kim@example.com", "correct horse battery");
  await assert.rejects(api("/ledger/categories"), (error) => error.status === 401);
  assert.equal(sent[2].path, "/api/auth/refresh");
  assert.equal(currentPosition(), null);
  assert.deepEqual(events, ["tally:signed-out"]);
});

test("a token of another household than the session's is not sent", async () => {
  answers = [
    { body: { access_token: accessToken(T1) }, headers: { "Tally-Position": `tenant=${T1};auth=12` } },
    { headers: { "Tally-Position": `tenant=${T1};ledger=7` } },
    // Switched: the answer still speaks of the household it was sent in…
    { body: { access_token: accessToken(T2) }, headers: { "Tally-Position": `tenant=${T1};auth=13;ledger=7` } },
    {},
  ];
  assert.equal(await signIn("kim@example.com", "correct horse battery"), null);
  await api("/ledger/categories");
  assert.equal(sent[1].position, `tenant=${T1};auth=12`);
  await signIn("kim@example.com", "correct horse battery"); // …a pair for T2 (as a switch gives)
  assert.equal(currentPosition(), null);
  await api("/ledger/categories");
  assert.equal(sent[3].position, null);
});

test("the page says while requests are under way", async () => {
  answers = [{}];
  assert.equal(root.attributes.has("data-api-busy"), false);
  const pending = api("/auth/me");
  assert.equal(root.attributes.has("data-api-busy"), true);
  await pending;
  assert.equal(sent[0].busy, true);
  assert.equal(root.attributes.has("data-api-busy"), false);
  answers = [{ status: 500, body: {} }];
  await assert.rejects(api("/auth/me"));
  assert.equal(root.attributes.has("data-api-busy"), false, "after an error too");
});

test("an answer for a session that ended meanwhile does not end the next one, nor bring its token back", async () => {
  let answerLate;
  const late = new Promise((resolve) => { answerLate = resolve; });
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    if (url === "/api/ledger/transactions") { // sent while signed in, answered after signing out and in
      await late;
      return new Response("{}", { status: 401, headers: { "Content-Type": "application/problem+json",
        "Tally-Position": `tenant=${T1};auth=12;ledger=9` } });
    }
    return realFetch(url, init);
  };
  try {
    answers = [{ body: { access_token: accessToken(T1) } }];
    await signIn("kim@example.com", "correct horse battery");
    const slow = api("/ledger/transactions");
    answers = [{ status: 204 }, { body: { two_factor_required: true, challenge_token: "c" } }];
    await signOut();
    assert.equal(await signIn("kim@example.com", "correct horse battery"), "c"); // the second step is shown
    events.length = 0;
    answerLate();
    await assert.rejects(slow, (error) => error.status === 401);
    assert.deepEqual(events, [], "no \"session ended\" over the sign-in under way");
    assert.equal(currentPosition(), null);
    assert.equal(sent.filter((request) => request.path === "/api/auth/refresh").length, 0);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test("a request sent with no session at all does not announce that a session ended", async () => {
  answers = [{ status: 401, body: {} }];
  await assert.rejects(api("/ledger/accounts"), (error) => error.status === 401);
  assert.deepEqual(events, []);
  assert.equal(sent.filter((request) => request.path === "/api/auth/refresh").length, 0);
});
