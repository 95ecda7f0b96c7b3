// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { arcPath, largestWithOther, pointAt, slices } from "../js/widgets/donut.js";

const TAU = 2 * Math.PI;

test("slices share the whole circle in order, clockwise from twelve o'clock, and leave out nothing spent", () => {
  const parts = slices([300, 0, 100, -50, 600]);
  assert.deepEqual(parts.map((p) => p.index), [0, 2, 4]);
  assert.deepEqual(parts.map((p) => p.share), [0.3, 0.1, 0.6]);
  assert.equal(parts[0].start, 0);
  assert.ok(Math.abs(parts[0].end - 0.3 * TAU) < 1e-12);
  assert.equal(parts[1].start, parts[0].end); // no gap, no overlap
  assert.equal(parts[2].start, parts[1].end);
  assert.equal(parts[2].end, TAU); // exactly closed, whatever the rounding
  assert.deepEqual(slices([]), []);
  assert.deepEqual(slices([0, -3]), []);
  const one = slices([42]);
  assert.deepEqual([one[0].start, one[0].end, one[0].share], [0, TAU, 1]);
});

test("slice sizes stay exact for large minor-unit amounts", () => {
  const parts = slices([1, 999_999_999_999]);
  assert.ok(parts[0].end > 0 && parts[0].end < 1e-10);
  assert.equal(parts[1].end, TAU);
});

test("points go clockwise from the top of the circle", () => {
  assert.deepEqual(pointAt(100, 100, 50, 0), [100, 50]); // twelve o'clock
  assert.deepEqual(pointAt(100, 100, 50, TAU / 4), [150, 100]); // three o'clock
  assert.deepEqual(pointAt(100, 100, 50, TAU / 2), [100, 150]); // six o'clock
  assert.deepEqual(pointAt(100, 100, 50, (3 * TAU) / 4), [50, 100]); // nine o'clock
});

test("a sector's path runs out along the outer arc and back along the inner one", () => {
  // A quarter: from twelve to three o'clock.
  assert.equal(arcPath(100, 100, 90, 50, 0, TAU / 4),
    "M 100 10 A 90 90 0 0 1 190 100 L 150 100 A 50 50 0 0 0 100 50 Z");
  // More than half a circle takes the large arc both ways.
  assert.equal(arcPath(100, 100, 90, 50, 0, (3 * TAU) / 4),
    "M 100 10 A 90 90 0 1 1 10 100 L 50 100 A 50 50 0 1 0 100 50 Z");
  // A whole ring is two halves (an arc whose ends meet would draw nothing).
  const ring = arcPath(100, 100, 90, 50, 0, TAU);
  assert.equal(ring.match(/M /g).length, 2);
  assert.ok(ring.startsWith("M 100 10 A 90 90 0 0 1 100 190 L 100 150 A 50 50 0 0 0 100 50 Z"));
});

test("the smallest categories are added up into one slice past the limit", () => {
  const items = [5, 50, 1, 20, 10, 0].map((amount, i) => ({ label: `c${i}`, amount }));
  assert.deepEqual(largestWithOther(items, 6).map((i) => i.label), ["c1", "c3", "c4", "c0", "c2"]);
  const limited = largestWithOther(items, 3);
  assert.deepEqual(limited.slice(0, 2).map((i) => i.label), ["c1", "c3"]);
  assert.deepEqual(limited[2], { other: true, count: 3, amount: 16 });
});
