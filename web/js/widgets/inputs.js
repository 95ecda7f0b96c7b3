// Form inputs and their options, shared by screens and home-screen panels: <select> options, currency and
// time-zone inputs, account kinds, categories (and saying where to add one while there are none).

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { minorDigits } from "../money.js";

/**
 * Reads a list again when the person comes to `element` (the focus goes into it) while `isEmpty()`: for
 * the categories, which a brand-new household gets from the ledger a moment after sign-up. The position
 * token (api.js) makes the first read wait for them; one read without it (signed up on another device a
 * moment ago) asks again when it matters, instead of leaving a form with nothing to choose. One read at a
 * time; a failed one is tried again on the next visit.
 */
export function askAgainWhileEmpty(element, isEmpty, read) {
  let reading = null;
  element.addEventListener("focusin", () => {
    if (reading || !isEmpty()) return;
    reading = Promise.resolve().then(read).catch(() => {}).finally(() => { reading = null; });
  });
}

/** Says why a category list is empty, and where to add one (hidden while there are categories). */
export function noCategoriesHint() {
  return h("p", { class: "hint", hidden: true }, `${t("panel.noCategories")} `,
    h("a", { href: "#/categories", text: t("panel.addCategory") }));
}

/** <option>s for a <select>, keeping the current choice when it still exists. */
export function fillSelect(select, options, placeholder = null) {
  const previous = select.value;
  select.replaceChildren();
  if (placeholder !== null) select.append(h("option", { value: "" }, placeholder));
  for (const { value, label } of options) select.append(h("option", { value }, label));
  if ([...select.options].some((option) => option.value === previous)) select.value = previous;
}

/** A text input for an ISO 4217 currency code. */
export function currencyInput(initial) {
  return h("input", { type: "text", name: "currency", required: true, maxlength: 3, minlength: 3,
    pattern: "[A-Za-z]{3}", autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
    value: initial ?? "" });
}

/** { code, digits } for the typed currency, or null after saying why not in `status`. */
export function readCurrency(input, status) {
  const code = input.value.trim().toUpperCase();
  try {
    return { code, digits: minorDigits(code) };
  } catch {
    status.error(code ? t("panel.notCurrency", { code }) : t("panel.notCurrencyEmpty"));
    input.focus();
    return null;
  }
}

// The kinds of account, as the API names them; their labels come from the locale files.
const ACCOUNT_KIND_KEYS = {
  checking: "panel.kinds.checking",
  savings: "panel.kinds.savings",
  cash: "panel.kinds.cash",
  credit_card: "panel.kinds.creditCard",
  loan: "panel.kinds.loan",
  investment: "panel.kinds.investment",
};

/** The label of an account kind in the reader's language (the kind itself if it is unknown). */
export function accountKindLabel(kind) {
  return ACCOUNT_KIND_KEYS[kind] ? t(ACCOUNT_KIND_KEYS[kind]) : kind;
}

/** { value, label } options for every account kind, for fillSelect(). */
export function accountKindOptions() {
  return Object.keys(ACCOUNT_KIND_KEYS).map((value) => ({ value, label: accountKindLabel(value) }));
}

/** Options for the categories of one kind ("expense" or "income"), labelled "Group › Name". */
export function categoryOptions(categories, kind) {
  return categories.filter((c) => c.kind === kind)
    .map((c) => ({ value: c.id, label: c.group ? `${c.group} › ${c.name}` : c.name }));
}

// Week start → key of its name; weekStarts() gives [value, name] pairs for select() in the chosen language.
export const WEEK_STARTS = [["monday", "profile.weekdays.monday"], ["sunday", "profile.weekdays.sunday"],
  ["saturday", "profile.weekdays.saturday"]];

export function weekStarts() {
  return WEEK_STARTS.map(([code, key]) => [code, t(key)]);
}

/** A time-zone input with the browser's list of IANA names to choose from (the server checks the name). */
export function timeZoneInput(value) {
  const listId = "time-zones";
  if (!document.getElementById(listId)) {
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    document.body.append(h("datalist", { id: listId }, zones.map((zone) => h("option", { value: zone }))));
  }
  return h("input", { type: "text", name: "time-zone", list: listId, required: true, maxlength: 64,
    autocomplete: "off", spellcheck: "false", value });
}

/** A <select> named `name` of [value, label] pairs, with `value` chosen. */
export function select(name, options, value) {
  return h("select", { name }, options.map(([code, label]) => h("option", { value: code, selected: code === value },
    label)));
}
