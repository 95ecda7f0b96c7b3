// Run with: node --test web/tests/
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { t, useStrings } from "../js/i18n.js";
import { formatMoney } from "../js/money.js";

const web = new URL("..", import.meta.url).pathname;
const load = (lang) => JSON.parse(readFileSync(join(web, "locales", `${lang}.json`), "utf8"));
const en = load("en");
const de = load("de");
const PLURAL_FORMS = new Set(["zero", "one", "two", "few", "many", "other"]);

function keys(table, prefix = "") {
  return Object.entries(table).flatMap(([name, value]) => (
    value && typeof value === "object" && !Object.keys(value).every((k) => PLURAL_FORMS.has(k))
      ? keys(value, `${prefix}${name}.`) : [`${prefix}${name}`]));
}

function sources(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory()
    ? sources(join(folder, entry.name))
    : entry.name.endsWith(".js") ? [join(folder, entry.name)] : []));
}

test("English and German have the same keys", () => {
  assert.deepEqual(keys(de).sort(), keys(en).sort());
});

test("every key the client asks for exists", () => {
  const known = new Set(keys(en));
  const missing = [];
  for (const file of sources(join(web, "js"))) {
    for (const [, key] of readFileSync(file, "utf8").matchAll(/\bt\("([a-z][\w.]*)"/g)) {
      if (!known.has(key)) missing.push(`${file.slice(web.length)}: ${key}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("placeholders, plural forms and the English fallback", () => {
  useStrings("de", { home: { hello: "Hallo, {name}" }, offline: de.offline }, en);
  assert.equal(t("home.hello", { name: "Robin" }), "Hallo, Robin");
  assert.equal(t("offline.waiting", { count: 1 }), "1 Eintrag wartet auf Synchronisierung.");
  assert.equal(t("offline.waiting", { count: 3 }), "3 Einträge warten auf Synchronisierung.");
  assert.equal(t("entry.amount"), "Amount"); // not in this German table: English
  assert.equal(t("no.such.key"), "no.such.key");
});

test("money follows the chosen language", () => {
  useStrings("de", de, en);
  assert.equal(formatMoney(123450, "EUR").replace(/\s/g, " "), "1.234,50 €");
  useStrings("en", en, en);
  assert.equal(formatMoney(123450, "EUR"), "€1,234.50");
});
