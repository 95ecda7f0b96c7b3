// #/transactions — search the ledger: a query box (`groceries amount>20 after:2026-01-01 tag:trip`) and
// filters, newest first, a page at a time (keyset cursor), with the totals of everything that matches.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { fillSelect } from "../panels/panel.js";
import { amountNode, categoryChoices, hashParams, ledgerNav, loadBook, signedAmount } from "./ledger.js";

const PAGE = 50;
const KINDS = [["expense", "transactions.kinds.expense"], ["income", "transactions.kinds.income"],
  ["transfer", "transactions.kinds.transfer"]];

export async function renderTransactions(container) {
  const status = statusLine();
  container.append(ledgerNav("/transactions"), h("h1", { text: t("transactions.title") }), status.element);
  let book;
  try {
    book = await loadBook();
  } catch (error) {
    status.error(error.message);
    return;
  }

  const q = h("input", { type: "search", name: "q", autocomplete: "off", maxlength: 500,
    placeholder: t("transactions.placeholder"), value: hashParams().get("q") ?? "" });
  const account = h("select", { name: "account_id" });
  fillSelect(account, book.accounts.map((a) => ({ value: a.id, label: a.name })), t("transactions.allAccounts"));
  account.value = hashParams().get("account") ?? "";
  const category = h("select", { name: "category_id" });
  fillSelect(category, categoryChoices(book, null), t("transactions.allCategories"));
  const kind = h("select", { name: "kind" });
  fillSelect(kind, KINDS.map(([value, key]) => ({ value, label: t(key) })), t("transactions.everyKind"));
  const from = h("input", { type: "date", name: "from_date" });
  const to = h("input", { type: "date", name: "to_date" });
  const form = h("form", { class: "stack", role: "search", "aria-label": t("transactions.searchLabel") },
    field(t("transactions.search"), q, t("transactions.searchHint")),
    h("div", { class: "row" }, field(t("transactions.account"), account), field(t("transactions.category"), category),
      field(t("transactions.kind"), kind)),
    h("div", { class: "row" }, field(t("transactions.from"), from), field(t("transactions.to"), to)),
    h("button", { type: "submit", class: "primary" }, t("transactions.searchButton")));
  const totals = h("div", { class: "totals", "aria-live": "polite" });
  const list = h("ul", { class: "rows" });
  const more = h("button", { type: "button", hidden: true }, t("transactions.more"));
  container.append(h("section", { class: "card" }, form, status.element), h("section", { class: "card" },
    totals, list, more));

  let cursor = null;

  function params() {
    const p = new URLSearchParams({ limit: String(PAGE) });
    for (const [name, input] of [["q", q], ["account_id", account], ["category_id", category], ["kind", kind],
      ["from_date", from], ["to_date", to]]) {
      if (input.value.trim()) p.set(name, input.value.trim());
    }
    return p;
  }

  function row(tx) {
    const accountName = book.account.get(tx.account_id)?.name ?? "";
    const kindLabel = { expense: t("transactions.expense"), income: t("transactions.income"),
      transfer: t("transactions.transfer") }[tx.kind] ?? tx.kind;
    const title = tx.payee || tx.category_name || kindLabel;
    const where = tx.kind === "transfer"
      ? `${accountName} → ${book.account.get(tx.counter_account_id)?.name ?? ""}`
      : accountName;
    const what = tx.splits.length ? t("transactions.splitIn", { count: tx.splits.length }) : tx.category_name;
    const state = { cleared: t("transactions.cleared"), reconciled: t("transactions.reconciled") }[tx.status] ?? tx.status;
    const details = [formatDate(tx.booked_on), what, where, tx.tags.map((tag) => `#${tag}`).join(" "),
      tx.status !== "uncleared" ? state : null].filter(Boolean).join(" · ");
    return h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("a", { href: `#/transaction?id=${encodeURIComponent(tx.id)}` }, h("strong", { text: title })),
        h("small", { class: "muted block", text: details }),
        tx.note ? h("small", { class: "block", text: tx.note }) : null),
      // A transfer between currencies arrives in the receiving account's currency, by its own amount.
      tx.counter_amount_minor && account.value && tx.counter_account_id === account.value
        ? amountNode(tx.counter_amount_minor, book.account.get(tx.counter_account_id)?.currency ?? tx.currency)
        : amountNode(signedAmount(tx, account.value || null), tx.currency, tx.kind === "transfer" && !account.value));
  }

  function showTotals(sets) {
    if (!sets.length) {
      replace(totals, h("p", { class: "empty", text: t("transactions.nothing") }));
      return;
    }
    replace(totals, sets.map((s) => h("p", {}, t("transactions.totals", { count: s.count, currency: s.currency,
      income: formatMoney(s.income_minor, s.currency), spending: formatMoney(s.expense_minor, s.currency),
      transfers: formatMoney(s.transfer_minor, s.currency) }))));
  }

  async function search(first) {
    const p = params();
    if (!first && cursor) p.set("cursor", cursor);
    const [page, sums] = await Promise.all([api(`/ledger/transactions?${p}`),
      first ? api(`/ledger/transactions/totals?${p}`) : null]);
    if (first) {
      replace(list, page.items.map(row));
      showTotals(sums.items);
    } else {
      list.append(...page.items.map(row));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }

  onSubmit(form, status, () => search(true));
  more.addEventListener("click", () => {
    more.disabled = true;
    search(false).catch((error) => status.error(error.message)).finally(() => { more.disabled = false; });
  });
  await search(true).catch((error) => status.error(error.message));
  return undefined;
}
