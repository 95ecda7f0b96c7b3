import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatDate } from "../format.js";
import { formatMoney } from "../money.js";
import { load, panel } from "./panel.js";

const RECENT = 20;

export function transactionsPanel(ctx) {
  const { element, body, status } = panel("Recent transactions", { className: "transactions" });
  const list = h("ul", { class: "rows" });
  replace(body, list);
  let items = [];

  function sync() {
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, "Nothing recorded yet."));
      return;
    }
    const accountNames = new Map(ctx.accounts.map((a) => [a.id, a.name]));
    replace(list, items.map((t) => {
      // A transfer between two of the household's accounts is neither spending nor income.
      const transfer = t.kind === "transfer";
      const signed = t.kind === "income" || transfer ? t.amount_minor : -t.amount_minor;
      const title = t.payee || t.category_name || { expense: "Expense", income: "Income" }[t.kind] || "Transfer";
      const name = (id) => accountNames.get(id) ?? "an archived account";
      const where = transfer ? `${name(t.account_id)} → ${name(t.counter_account_id)}` : name(t.account_id);
      const details = [formatDate(t.booked_on), t.payee ? t.category_name : null, where]
        .filter(Boolean).join(" · ");
      return h("li", { class: "row-item" },
        h("span", { class: "grow" },
          h("a", { href: `#/transaction?id=${encodeURIComponent(t.id)}` }, h("strong", { text: title })),
          h("small", { class: "muted block", text: details })),
        h("span", { class: `amount ${transfer ? "" : signed < 0 ? "negative" : "positive"}`.trim(),
          text: formatMoney(signed, t.currency) }));
    }));
  }

  return {
    element,
    sync,
    async load() {
      await load(status, async () => {
        ({ items } = await api(`/ledger/transactions?limit=${RECENT}`));
        sync();
      });
    },
  };
}
