// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../js/money.js";

const ok = (minor) => ({ ok: true, minor });

test("minor unit digits follow ISO 4217", () => {
  assert.equal(minorDigits("USD"), 2);
  assert.equal(minorDigits("JPY"), 0);
  assert.equal(minorDigits("KWD"), 3);
});

test("decimal text becomes integer minor units without float rounding", () => {
  assert.deepEqual(parseAmount("12.50", 2), ok(1250));
  assert.deepEqual(parseAmount("12.5", 2), ok(1250));
  assert.deepEqual(parseAmount("12", 2), ok(1200));
  assert.deepEqual(parseAmount(" 0.07 ", 2), ok(7));
  assert.deepEqual(parseAmount(".5", 2), ok(50));
  assert.deepEqual(parseAmount("7.", 2), ok(700));
  assert.deepEqual(parseAmount("12,34", 2), ok(1234));
  assert.deepEqual(parseAmount("1 234.56", 2), ok(123456));
  assert.deepEqual(parseAmount("0.29", 2), ok(29)); // 0.29 * 100 === 28.999999999999996 in floats
  assert.deepEqual(parseAmount("1.005", 3), ok(1005));
  assert.deepEqual(parseAmount("1200", 0), ok(1200));
  assert.deepEqual(parseAmount("90071992547409.91", 2), ok(9007199254740991));
});

test("signs and zero are refused unless allowed", () => {
  assert.equal(parseAmount("-5", 2).ok, false);
  assert.deepEqual(parseAmount("-5", 2, { allowNegative: true }), ok(-500));
  assert.equal(parseAmount("0.00", 2).ok, false);
  assert.deepEqual(parseAmount("0", 2, { allowZero: true }), ok(0));
  assert.deepEqual(parseAmount("-0", 2, { allowZero: true, allowNegative: true }), ok(0));
});

test("bad input gets a message, never a number", () => {
  for (const text of ["", "  ", "abc", "1.2.3", "12.345", "1e3", "0x10", "--1", ".", "12.5€", "Infinity"]) {
    const result = parseAmount(text, 2);
    assert.equal(result.ok, false, text);
    assert.equal(typeof result.error, "string");
  }
  assert.match(parseAmount("12.345", 2).error, /2 decimal places/);
  assert.match(parseAmount("12.5", 0).error, /no decimal places/);
  assert.match(parseAmount("99999999999999999", 2).error, /too large/);
});

test("minor units become exact decimal strings", () => {
  assert.equal(toDecimalString(1250, 2), "12.50");
  assert.equal(toDecimalString(7, 2), "0.07");
  assert.equal(toDecimalString(-5, 2), "-0.05");
  assert.equal(toDecimalString(1200, 0), "1200");
  assert.equal(toDecimalString(1005, 3), "1.005");
  assert.throws(() => toDecimalString(1.5, 2));
});

test("formatting uses the currency's digits", () => {
  assert.equal(formatMoney(1250, "USD", "en-US"), "$12.50");
  assert.equal(formatMoney(-7, "USD", "en-US"), "-$0.07");
  assert.equal(formatMoney(1200, "JPY", "en-US"), "¥1,200");
  assert.equal(formatMoney(123456789, "EUR", "de-DE"), "1.234.567,89\u00a0€");
  assert.equal(formatMoney(9007199254740991, "USD", "en-US"), "$90,071,992,547,409.91");
});
