// Run with: node --test web/tests/
// The Tally-Position token: parsing, writing and the client's merge rule (issue #16).
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatPosition, isAfter, mergePositions, parsePosition, sameTenant } from "../js/position.js";

const T1 = "3f2a8c1e-9b7d-4c2a-8e1f-0a1b2c3d4e5f";
const T2 = "7c1d0e2f-1a2b-4c3d-9e8f-112233445566";
const token = (tenant, positions) => ({ tenant, positions });

test("a token is read into its household and positions", () => {
  assert.deepEqual(parsePosition(`tenant=${T1};auth=12;ledger=345`), token(T1, { auth: "12", ledger: "345" }));
  assert.deepEqual(parsePosition(`tenant=${T1}`), token(T1, {}));
  assert.deepEqual(parsePosition(` tenant = ${T1} ; budget=0 ; analytics=7 ;`),
    token(T1, { budget: "0", analytics: "7" }));
  assert.deepEqual(parsePosition(`ledger=3;tenant=${T1}`), token(T1, { ledger: "3" }), "any order");
  assert.deepEqual(parsePosition(`tenant=${T1};ledger=007`), token(T1, { ledger: "7" }));
  assert.deepEqual(parsePosition(`tenant=${T1};ledger=3;ledger=9;ledger=5`), token(T1, { ledger: "9" }));
  // A service the client does not know yet is kept (and sent back) as it came.
  assert.deepEqual(parsePosition(`tenant=${T1};notifier=4`), token(T1, { notifier: "4" }));
});

test("positions beyond 2^53 stay exact", () => {
  const big = "9007199254740993"; // 2^53 + 1: a float would say 9007199254740992
  assert.equal(parsePosition(`tenant=${T1};ledger=${big}`).positions.ledger, big);
  assert.equal(isAfter("9007199254740993", "9007199254740992"), true);
  assert.equal(isAfter("10", "9"), true);
  assert.equal(isAfter("9", "10"), false);
  assert.equal(isAfter("5", "5"), false);
});

test("anything else is no token", () => {
  for (const text of [null, undefined, "", "  ", "ledger=3", "tenant=", `tenant=${T1};ledger=-1`,
    `tenant=${T1};ledger=1.5`, `tenant=${T1};ledger=`, `tenant=${T1};ledger`, `tenant=${T1};=4`,
    `tenant=${T1};Ledger=4`, `tenant=${T1};tenant=${T2}`, "tenant=a b;ledger=1", `tenant=${T1};ledger=1e3`,
    `tenant=${T1},ledger=1`, 42]) {
    assert.equal(parsePosition(text), null, String(text));
  }
});

test("a token is written back as the header's value", () => {
  assert.equal(formatPosition(token(T1, {})), `tenant=${T1}`);
  assert.equal(formatPosition(token(T1, { analytics: "1", zeta: "2", ledger: "345", auth: "12", budget: "0",
    notifier: "3" })), `tenant=${T1};auth=12;ledger=345;budget=0;analytics=1;notifier=3;zeta=2`);
  const text = `tenant=${T1};auth=12;ledger=345`;
  assert.equal(formatPosition(parsePosition(text)), text);
});

test("merge: the received token when there is none yet", () => {
  const received = token(T1, { auth: "12" });
  const merged = mergePositions(null, received);
  assert.deepEqual(merged, received);
  assert.notEqual(merged, received, "a copy, not the same object");
  assert.notEqual(merged.positions, received.positions);
  assert.deepEqual(mergePositions(undefined, received), received);
});

test("merge: nothing received keeps the current token", () => {
  const current = token(T1, { ledger: "3" });
  assert.equal(mergePositions(current, null), current);
  assert.equal(mergePositions(null, null), null);
});

test("merge: another household's token replaces the current one", () => {
  const current = token(T1, { auth: "12", ledger: "345" });
  assert.deepEqual(mergePositions(current, token(T2, { auth: "3" })), token(T2, { auth: "3" }));
});

test("merge: the later position per service, and services only one of them names", () => {
  const current = token(T1, { auth: "12", ledger: "345", budget: "9" });
  const received = token(T1, { auth: "11", ledger: "346", analytics: "2" });
  assert.deepEqual(mergePositions(current, received),
    token(T1, { auth: "12", ledger: "346", budget: "9", analytics: "2" }));
  assert.deepEqual(current, token(T1, { auth: "12", ledger: "345", budget: "9" }), "the current one is unchanged");
  assert.deepEqual(received, token(T1, { auth: "11", ledger: "346", analytics: "2" }));
});

test("merge: the same household whatever the letter case of its id", () => {
  const upper = token(T1.toUpperCase(), { ledger: "5" });
  assert.equal(sameTenant(token(T1, {}), upper), true);
  assert.deepEqual(mergePositions(token(T1, { ledger: "7", auth: "1" }), upper), token(T1, { ledger: "7", auth: "1" }));
  assert.equal(sameTenant(token(T1, {}), token(T2, {})), false);
  assert.equal(sameTenant(null, token(T1, {})), false);
});

test("merging is order-free for one household (what arrives late never moves a position back)", () => {
  const answers = [token(T1, { auth: "1" }), token(T1, { ledger: "4" }), token(T1, { ledger: "2", budget: "8" }),
    token(T1, { auth: "3", ledger: "3" })];
  const forward = answers.reduce(mergePositions, null);
  const backward = [...answers].reverse().reduce(mergePositions, null);
  assert.deepEqual(forward, token(T1, { auth: "3", ledger: "4", budget: "8" }));
  assert.deepEqual(backward, forward);
});
