// #/transactions — search the ledger: a query box (`groceries amount>20 after:2026-01-01 tag:trip`) and
// filters, newest first, a page at a time (keyset cursor), with the totals of everything that matches.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { formatMoney } from "../money.js";
import { fillSelect } from "../panels/panel.js";
import { amountNode, categoryChoices, hashParams, ledgerNav, loadBook, signedAmount } from "./ledger.js";

const PAGE = 50;
const KINDS = [["expense", "Expenses"], ["income", "Income"], ["transfer", "Transfers"]];

export async function renderTransactions(container) {
  const status = statusLine();
  container.append(ledgerNav("/transactions"), h("h1", { text: "Transactions" }), status.element);
  let book;
  try {
    book = await loadBook();
  } catch (error) {
    status.error(error.message);
    return;
  }

  const q = h("input", { type: "search", name: "q", autocomplete: "off", maxlength: 500,
    placeholder: "groceries amount>20 after:2026-01-01 tag:trip", value: hashParams().get("q") ?? "" });
  const account = h("select", { name: "account_id" });
  fillSelect(account, book.accounts.map((a) => ({ value: a.id, label: a.name })), "All accounts");
  account.value = hashParams().get("account") ?? "";
  const category = h("select", { name: "category_id" });
  fillSelect(category, categoryChoices(book, null), "All categories");
  const kind = h("select", { name: "kind" });
  fillSelect(kind, KINDS.map(([value, label]) => ({ value, label })), "Every kind");
  const from = h("input", { type: "date", name: "from_date" });
  const to = h("input", { type: "date", name: "to_date" });
  const form = h("form", { class: "stack", role: "search", "aria-label": "Search transactions" },
    field("Search", q, "Words in payee, note or category; amount>20, after:2026-01-01, before:, on:2026-03, "
      + "tag:, category:, payee:, account:, type:transfer, status:cleared"),
    h("div", { class: "row" }, field("Account", account), field("Category", category), field("Kind", kind)),
    h("div", { class: "row" }, field("From", from), field("To", to)),
    h("button", { type: "submit", class: "primary" }, "Search"));
  const totals = h("div", { class: "totals", "aria-live": "polite" });
  const list = h("ul", { class: "rows" });
  const more = h("button", { type: "button", hidden: true }, "Show more");
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

  function row(t) {
    const accountName = book.account.get(t.account_id)?.name ?? "";
    const title = t.payee || t.category_name || (t.kind === "transfer" ? "Transfer" : t.kind);
    const where = t.kind === "transfer"
      ? `${accountName} → ${book.account.get(t.counter_account_id)?.name ?? ""}`
      : accountName;
    const what = t.splits.length ? `Split in ${t.splits.length}` : t.category_name;
    const details = [formatDate(t.booked_on), what, where, t.tags.map((tag) => `#${tag}`).join(" "),
      t.status !== "uncleared" ? t.status : null].filter(Boolean).join(" · ");
    return h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("a", { href: `#/transaction?id=${encodeURIComponent(t.id)}` }, h("strong", { text: title })),
        h("small", { class: "muted block", text: details }),
        t.note ? h("small", { class: "block", text: t.note }) : null),
      // A transfer between currencies arrives in the receiving account's currency, by its own amount.
      t.counter_amount_minor && account.value && t.counter_account_id === account.value
        ? amountNode(t.counter_amount_minor, book.account.get(t.counter_account_id)?.currency ?? t.currency)
        : amountNode(signedAmount(t, account.value || null), t.currency, t.kind === "transfer" && !account.value));
  }

  function showTotals(sets) {
    if (!sets.length) {
      replace(totals, h("p", { class: "empty", text: "Nothing matches." }));
      return;
    }
    replace(totals, sets.map((s) => h("p", {}, `${s.count} in ${s.currency}: income `,
      formatMoney(s.income_minor, s.currency), ", spending ", formatMoney(s.expense_minor, s.currency),
      ", transfers ", formatMoney(s.transfer_minor, s.currency))));
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
