// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { recentPayees, suggestionFor } from "../js/suggest.js";

const tx = (payee, category_id, kind = "expense", account_id = "a1") => ({ payee, category_id, kind, account_id });

// Newest first, as GET /ledger/transactions lists them.
const history = [
  tx("Bakery", "bread"),
  tx("corner market", null), // no category this time: the older one still counts
  tx("Landlord", null, "transfer"),
  tx("Employer", "salary", "income", "a2"),
  tx("Corner Market", "groceries"),
  tx("Bakery", "snacks"),
  tx("", "misc"),
];

test("recent payees are distinct, newest first, case-insensitively, without transfers or blanks", () => {
  assert.deepEqual(recentPayees(history), ["Bakery", "corner market", "Employer"]);
  assert.deepEqual(recentPayees(history, 2), ["Bakery", "corner market"]);
  assert.deepEqual(recentPayees([]), []);
});

test("the suggestion is the newest categorised transaction of that payee", () => {
  assert.deepEqual(suggestionFor(history, "bakery"), { category_id: "bread", kind: "expense", account_id: "a1" });
  assert.deepEqual(suggestionFor(history, " CORNER MARKET "), { category_id: "groceries", kind: "expense",
    account_id: "a1" });
  assert.deepEqual(suggestionFor(history, "Employer"), { category_id: "salary", kind: "income", account_id: "a2" });
});

test("no suggestion for unknown, blank or transfer-only payees", () => {
  assert.equal(suggestionFor(history, "Nobody"), null);
  assert.equal(suggestionFor(history, ""), null);
  assert.equal(suggestionFor(history, "Landlord"), null);
});
