// Run with: node --test web/tests/
// Every visible string of every screen comes from the locale files. A literal with letters where the DOM
// shows text (h()'s `text`, a child string, `label`, `title`, `placeholder`, `aria-label`, `alt`,
// textContent) is English in every language, as the six main-menu words were (issue #20); a literal that
// looks like a key must be one, in English and in German. t(variable) cannot be followed statically, so
// such variables hold keys written as literals in one of the places checked here (NAV's `label`).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const web = new URL("..", import.meta.url).pathname;
const load = (lang) => JSON.parse(readFileSync(join(web, "locales", `${lang}.json`), "utf8"));

function has(table, key) {
  return typeof key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined),
    table) === "string";
}

function sources(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory()
    ? sources(join(folder, entry.name))
    : entry.name.endsWith(".js") ? [join(folder, entry.name)] : []));
}

const STRING = String.raw`"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'`;
const SHOWN = [
  String.raw`(?:\b(?:text|label|title|placeholder|alt)|"aria-label")\s*:\s*(?:${STRING})`,
  String.raw`\.(?:textContent|innerText|title|placeholder)\s*=\s*(?:${STRING})`,
  String.raw`\bh\(\s*"[\w-]+"\s*,\s*(?:\{[^{}]*\}|null|undefined)\s*,\s*(?:${STRING})`,
  String.raw`setAttribute\(\s*"(?:aria-label|title|placeholder|alt)"\s*,\s*(?:${STRING})`,
].map((pattern) => new RegExp(pattern, "g"));
const KEY = /^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9_]+)+$/;
// Not words in any language: addresses shown as examples.
const NOT_WORDS = /^(https?:\/\/|[\w.+-]+@[\w-]+\.)/;

/** The literals in `source` that the DOM would show, with their line numbers (comments left out). */
export function shownLiterals(source) {
  // Line comments first: one may mention a glob ("locales/*.json") that would open a block comment.
  const code = source.replace(/^\s*\/\/.*$/gm, "").replace(/\s\/\/\s.*$/gm, "")
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  return SHOWN.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => ({
    text: match[1] ?? match[2], line: code.slice(0, match.index).split("\n").length })))
    .sort((a, b) => a.line - b.line);
}

/** What is wrong with the literals of `source`: text that is not a key, or keys missing from a table. */
export function untranslated(source, tables) {
  return shownLiterals(source).flatMap(({ text, line }) => {
    if (!/\p{L}/u.test(text) || NOT_WORDS.test(text)) return [];
    if (!KEY.test(text)) return [`${line}: "${text}" is shown as it is, in every language`];
    return Object.entries(tables).filter(([, table]) => !has(table, text))
      .map(([lang]) => `${line}: "${text}" is not a key in ${lang}.json`);
  });
}

test("the check finds English text outside the locale files", () => {
  const tables = { en: { nav: { home: "Home" } }, de: { nav: { home: "Start" } } };
  const sample = [
    'const NAV = [{ path: "/", label: "nav.home" }, { path: "/reports", label: "Reports" }];',
    'h("p", { class: "x" }, "Nothing yet");',
    'h("span", { text: "42.00" });',
    '// h("button", {}, "Save") in a comment shows nothing, nor does web/locales/*.json in one',
    'input.placeholder = "https://example.org/hook";',
    'h("a", { "aria-label": "nav.missing" }); /** a doc comment */',
  ].join("\n");
  assert.deepEqual(untranslated(sample, tables), [
    '1: "Reports" is shown as it is, in every language',
    '2: "Nothing yet" is shown as it is, in every language',
    '6: "nav.missing" is not a key in en.json',
    '6: "nav.missing" is not a key in de.json',
  ]);
});

test("every string a screen shows is in English and German", () => {
  const tables = { en: load("en"), de: load("de") };
  const problems = sources(join(web, "js")).flatMap((file) => untranslated(readFileSync(file, "utf8"), tables)
    .map((problem) => `${file.slice(web.length)}:${problem}`));
  assert.deepEqual(problems, []);
});
