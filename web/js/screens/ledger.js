// What the ledger screens share: the household's accounts and categories by id, labels, signed amounts.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";

/** Every account and category of the household (archived ones too, for names in old entries). */
export async function loadBook() {
  const [{ items: accounts }, { items: categories }] = await Promise.all([
    api("/ledger/accounts?include_archived=true"),
    api("/ledger/categories?include_archived=true"),
  ]);
  return {
    accounts,
    categories,
    account: new Map(accounts.map((a) => [a.id, a])),
    category: new Map(categories.map((c) => [c.id, c])),
  };
}

/** "Group › Name" options for the open categories of a kind. */
export function categoryChoices(book, kind) {
  return book.categories.filter((c) => !c.archived && (!kind || c.kind === kind))
    .map((c) => ({ value: c.id, label: `${c.group} › ${c.name}` }));
}

/** The amount as it moved `account_id` (or, without one, expense negative, income positive). */
export function signedAmount(t, accountId = null) {
  if (t.kind === "income") return t.amount_minor;
  if (t.kind === "transfer" && accountId && t.counter_account_id === accountId) return t.amount_minor;
  return -t.amount_minor;
}

export function amountNode(minor, currency, neutral = false) {
  const tone = neutral ? "" : minor < 0 ? "negative" : "positive";
  return h("span", { class: `amount ${tone}`.trim(), text: formatMoney(minor, currency) });
}

/** A sub-navigation between the ledger screens. */
export function ledgerNav(current) {
  const links = [["/transactions", t("ledger.transactions")], ["/categorise", t("ledger.categorise")],
    ["/accounts", t("ledger.accounts")],
    ["/categories", t("ledger.categories")], ["/recurring", t("ledger.recurring")], ["/rules", t("ledger.rules")],
    ["/rates", t("ledger.rates")]];
  return h("nav", { "aria-label": t("ledger.nav") }, links.map(([path, label], n) => [n ? " · " : null,
    h("a", { href: `#${path}`, "aria-current": path === current ? "page" : null }, label)]));
}
