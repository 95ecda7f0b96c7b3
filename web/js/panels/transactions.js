import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { load, panel } from "./panel.js";

const RECENT = 20;

export function transactionsPanel(ctx) {
  const { element, body, status } = panel(t("transactionsPanel.title"), { className: "transactions" });
  const list = h("ul", { class: "rows" });
  replace(body, list);
  let items = [];

  function sync() {
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, t("transactionsPanel.empty")));
      return;
    }
    const accountNames = new Map(ctx.accounts.map((a) => [a.id, a.name]));
    replace(list, items.map((tx) => {
      // A transfer between two of the household's accounts is neither spending nor income.
      const transfer = tx.kind === "transfer";
      const signed = tx.kind === "income" || transfer ? tx.amount_minor : -tx.amount_minor;
      const kindLabel = { expense: t("transactionsPanel.expense"), income: t("transactionsPanel.income") }[tx.kind];
      const title = tx.payee || tx.category_name || kindLabel || t("transactionsPanel.transfer");
      const name = (id) => accountNames.get(id) ?? t("transactionsPanel.archivedAccount");
      const where = transfer ? `${name(tx.account_id)} → ${name(tx.counter_account_id)}` : name(tx.account_id);
      const details = [formatDate(tx.booked_on), tx.payee ? tx.category_name : null, where]
        .filter(Boolean).join(" · ");
      return h("li", { class: "row-item" },
        h("span", { class: "grow" },
          h("a", { href: `#/transaction?id=${encodeURIComponent(tx.id)}` }, h("strong", { text: title })),
          h("small", { class: "muted block", text: details })),
        h("span", { class: `amount ${transfer ? "" : signed < 0 ? "negative" : "positive"}`.trim(),
          text: formatMoney(signed, tx.currency) }));
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
