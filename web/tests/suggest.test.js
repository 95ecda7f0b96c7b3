// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { bestSuggestion, lastUseOf, latestOnly, recentPayees } from "../js/suggest.js";

const tx = (payee, kind = "expense", account_id = "a1") => ({ payee, kind, account_id });

// Newest first, as GET /ledger/transactions lists them.
const history = [
  tx("Bakery"),
  tx("corner market", "expense", "a3"),
  tx("Landlord", "transfer"),
  tx("Employer", "income", "a2"),
  tx("Corner Market"),
  tx("Bakery", "income"),
  tx(""),
];

test("recent payees are distinct, newest first, case-insensitively, without transfers or blanks", () => {
  assert.deepEqual(recentPayees(history), ["Bakery", "corner market", "Employer"]);
  assert.deepEqual(recentPayees(history, 2), ["Bakery", "corner market"]);
  assert.deepEqual(recentPayees([]), []);
});

test("a payee's last use gives its kind and account; unknown, blank or transfer-only payees none", () => {
  assert.deepEqual(lastUseOf(history, " CORNER MARKET "), { kind: "expense", account_id: "a3" });
  assert.deepEqual(lastUseOf(history, "employer"), { kind: "income", account_id: "a2" });
  assert.equal(lastUseOf(history, "Nobody"), null);
  assert.equal(lastUseOf(history, ""), null);
  assert.equal(lastUseOf(history, "Landlord"), null);
});

test("the best suggestion is preselected only at or above the household's threshold", () => {
  const answer = (confidence, pct = 90) => ({ accept_above_pct: pct, items: [
    { category_id: "c1", category_name: "Groceries", confidence, source: "model" },
    { category_id: "c2", category_name: "Household", confidence: 0.01, source: "model" }] });
  assert.equal(bestSuggestion(answer(0.95)).preselect, true);
  assert.equal(bestSuggestion(answer(0.896)).preselect, true); // shown as 90 %: as the import counts it
  assert.equal(bestSuggestion(answer(0.89)).preselect, false);
  assert.equal(bestSuggestion(answer(0.6, 50)).preselect, true);
  assert.equal(bestSuggestion(answer(0.95)).category_id, "c1");
  assert.equal(bestSuggestion({ accept_above_pct: 90, items: [] }), null);
  assert.equal(bestSuggestion(null), null);
});

/** A fetcher whose answers the test hands out, recording each request and its signal. */
function fakeFetcher() {
  const requests = [];
  const fetcher = (params, signal) => new Promise((resolve, reject) => {
    requests.push({ params, signal, resolve });
    signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  });
  return { fetcher, requests };
}

// One turn of the event loop: timers due now (the lookup's, delay 0) run first, then what their answers set off.
const tick = () => new Promise((resolve) => { setTimeout(resolve, 0); });

test("only the latest input is asked about and answered; an overtaken request is cancelled", async () => {
  const { fetcher, requests } = fakeFetcher();
  const answers = [];
  const lookup = latestOnly(fetcher, (answer) => answers.push(answer), 0);

  lookup.ask({ payee: "RE" });
  lookup.ask({ payee: "REW" }); // before the first was even sent: only one request
  await tick();
  assert.deepEqual(requests.map((r) => r.params.payee), ["REW"]);

  lookup.ask({ payee: "REWE" }); // while "REW" is under way: that one is cancelled
  await tick();
  assert.equal(requests[0].signal.aborted, true);
  requests[0].resolve({ items: ["stale"] });
  requests[1].resolve({ items: ["fresh"] });
  await tick();
  assert.deepEqual(answers, [{ items: ["fresh"] }]);

  lookup.ask(null); // nothing to ask about: answered with null at once
  assert.deepEqual(answers.at(-1), null);
  lookup.cancel();
});

test("a failed request answers null rather than leaving an old suggestion", async () => {
  const answers = [];
  const lookup = latestOnly(async () => { throw new Error("offline"); }, (answer) => answers.push(answer), 0);
  lookup.ask({ payee: "REWE" });
  await tick();
  await tick();
  assert.deepEqual(answers, [null]);
});
