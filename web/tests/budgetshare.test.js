// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { memberShare } from "../js/widgets/budgetbar.js";

const categories = [
  { id: "groceries", group: "Food" }, { id: "eating-out", group: "Food" }, { id: "rent", group: "Home" },
];
const shares = [
  { category_id: "groceries", currency: "EUR", amount_minor: 3_000 },
  { category_id: "eating-out", currency: "EUR", amount_minor: 1_200 },
  { category_id: "groceries", currency: "CHF", amount_minor: 900 },
  { category_id: "rent", currency: "EUR", amount_minor: 50_000 },
];
const monthly = { period_kind: "month", start_day: 1, currency: "EUR" };

test("a category budget counts its category's share in its currency", () => {
  assert.equal(memberShare({ ...monthly, category_id: "groceries", group: null }, shares, categories), 3_000);
});

test("a group budget counts every category of the group", () => {
  assert.equal(memberShare({ ...monthly, category_id: null, group: "Food" }, shares, categories), 4_200);
});

test("no share is nothing, and a budget not over the calendar month has none to show", () => {
  assert.equal(memberShare({ ...monthly, category_id: "groceries", group: null }, [], categories), 0);
  assert.equal(memberShare({ ...monthly, period_kind: "week", category_id: "rent", group: null }, shares,
    categories), null);
  assert.equal(memberShare({ ...monthly, start_day: 25, category_id: "rent", group: null }, shares,
    categories), null);
});
