// The words on screen, in the reader's language. Every string lives in web/locales/<lang>.json under a
// dotted key ("entry.amount"); screens call t("entry.amount") instead of writing English inline.
//
//   t("offline.waiting", { count: 2 })  → "2 entries waiting to sync"
//
// A value may hold {placeholders}, and may be an object of plural forms ({ "one": …, "other": … }) chosen
// by Intl.PluralRules from `count`. A key missing from the chosen language falls back to English, and a
// key missing from English shows the key itself (a test finds those). Numbers, money and dates are
// formatted with formatLocale() (see format.js and money.js), so a German reader sees "1.234,50 €".

export const LANGUAGES = { en: "English", de: "Deutsch" };
const FALLBACK = "en";
const STORAGE_KEY = "tally.language";

let language = FALLBACK;
let locale; // a BCP 47 tag for Intl (e.g. "de-AT" for a reader in Austria), undefined before init
let strings = {};
let fallbackStrings = {};

/** The language to use: the one chosen on this device, else the first of the browser's we have. */
export function preferredLanguage() {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (stored && stored in LANGUAGES) return stored;
  const wanted = globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? FALLBACK];
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base;
  }
  return FALLBACK;
}

async function fetchStrings(lang) {
  const response = await fetch(`/locales/${lang}.json`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`no strings for ${lang}`);
  return response.json();
}

/** Loads the strings (call once before the first screen renders). */
export async function initI18n(lang = preferredLanguage()) {
  language = lang in LANGUAGES ? lang : FALLBACK;
  const [own, fallback] = await Promise.all([
    fetchStrings(language).catch(() => ({})),
    language === FALLBACK ? null : fetchStrings(FALLBACK).catch(() => ({})),
  ]);
  useStrings(language, own, fallback ?? own);
}

/** Uses these string tables (initI18n fetches them; tests pass them in). */
export function useStrings(lang, own, fallback = own) {
  language = lang;
  strings = own;
  fallbackStrings = fallback;
  // Keep the reader's region (de-AT, en-GB) when it matches the language, for dates and numbers.
  const browserTag = globalThis.navigator?.languages?.find((tag) => tag.toLowerCase().split("-")[0] === language);
  locale = browserTag ?? language;
  if (globalThis.document) document.documentElement.lang = language;
}

/** Chooses a language on this device and reloads the strings. */
export async function setLanguage(lang) {
  globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  await initI18n(lang);
}

export function currentLanguage() {
  return language;
}

/** The locale for Intl formatting; undefined (the runtime's own) before initI18n ran. */
export function formatLocale() {
  return locale;
}

function lookup(table, key) {
  return key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), table);
}

/** The string for `key` in the current language, with {placeholders} filled from `params`. */
export function t(key, params = {}) {
  let value = lookup(strings, key) ?? lookup(fallbackStrings, key);
  if (value && typeof value === "object") {
    const form = new Intl.PluralRules(locale).select(Number(params.count ?? 0));
    value = value[form] ?? value.other;
  }
  if (typeof value !== "string") return key;
  return value.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}
