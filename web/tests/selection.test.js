// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { registerKey, Selection } from "../js/selection.js";

const ids = ["a", "b", "c", "d", "e"];

test("j/k move within the list, starting at the first row", () => {
  const s = new Selection();
  assert.equal(s.move(ids, 1), 0);
  assert.equal(s.move(ids, 1), 1);
  assert.equal(s.move(ids, -1), 0);
  assert.equal(s.move(ids, -1), 0);
  s.current = 4;
  assert.equal(s.move(ids, 1), 4);
  assert.equal(new Selection().move([], 1), -1);
});

test("a click toggles and a shift-click selects the range from it", () => {
  const s = new Selection();
  s.toggle(ids, 1);
  s.rangeTo(ids, 3);
  assert.deepEqual(s.ids(ids), ["b", "c", "d"]);
  s.toggle(ids, 2);
  assert.deepEqual(s.ids(ids), ["b", "d"]);
  s.rangeTo(ids, 0); // from the last toggled row up
  assert.deepEqual(s.ids(ids), ["a", "b", "c", "d"]);
  s.clear();
  assert.equal(s.size, 0);
});

test("shift+j/k extend from the keyboard's row", () => {
  const s = new Selection();
  s.extend(ids, 1);
  s.extend(ids, 1);
  assert.deepEqual(s.ids(ids), ["a", "b", "c"]);
  assert.equal(s.current, 2);
  s.extend(ids, -1);
  assert.deepEqual(s.ids(ids), ["a", "b", "c"]);
  assert.equal(s.current, 1);
});

test("every match covers unloaded rows until one is left out", () => {
  const s = new Selection();
  s.selectEveryMatch();
  assert.ok(s.has("not-loaded"));
  s.toggle(ids, 0);
  assert.equal(s.everyMatch, false);
  assert.deepEqual(s.ids(ids), ["b", "c", "d", "e"]);
  assert.ok(!s.has("not-loaded"));
});

test("the register's keys", () => {
  const key = (k, extra = {}) => registerKey({ key: k, shiftKey: false, ctrlKey: false, metaKey: false,
    altKey: false, ...extra });
  assert.equal(key("j"), "down");
  assert.equal(key("K", { shiftKey: true }), "extendUp");
  assert.equal(key("ArrowDown", { shiftKey: true }), "extendDown");
  assert.equal(key("ArrowUp"), "up");
  assert.equal(key("x"), "toggle");
  assert.equal(key("Enter"), "edit");
  assert.equal(key("Escape"), "cancel");
  assert.equal(key("j", { ctrlKey: true }), null);
  assert.equal(key("q"), null);
});
