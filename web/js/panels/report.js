import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { formatMoney } from "../money.js";
import { load, panel } from "./panel.js";

export function reportPanel() {
  const month = thisMonth();
  const { element, body, status } = panel(`This month · ${formatMonth(month)}`, { className: "report" });

  function show(report) {
    if (report.totals.length === 0) {
      replace(body, h("p", { class: "empty" }, "No income or expenses this month yet."));
      return;
    }
    const totals = h("dl", { class: "totals" }, report.totals.map((t) => [
      h("div", {}, h("dt", { text: `Income (${t.currency})` }),
        h("dd", { class: "amount positive", text: formatMoney(t.income_minor, t.currency) })),
      h("div", {}, h("dt", { text: `Expenses (${t.currency})` }),
        h("dd", { class: "amount negative", text: formatMoney(t.expense_minor, t.currency) })),
      h("div", {}, h("dt", { text: `Net (${t.currency})` }),
        h("dd", { class: `amount ${t.net_minor < 0 ? "negative" : "positive"}`,
          text: formatMoney(t.net_minor, t.currency) })),
    ]));
    const rows = [...report.by_category].sort((a, b) => b.expense_minor - a.expense_minor);
    const table = h("table", { class: "by-category" },
      h("caption", { text: "By category" }),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: "Category" }),
        h("th", { scope: "col", class: "num", text: "Spent" }),
        h("th", { scope: "col", class: "num", text: "Received" }))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        h("th", { scope: "row", text: row.category_name || "Uncategorised" }),
        h("td", { class: "num amount", text: formatMoney(row.expense_minor, row.currency) }),
        h("td", { class: "num amount", text: formatMoney(row.income_minor, row.currency) })))));
    replace(body, totals, rows.length ? h("div", { class: "table-scroll" }, table) : null);
  }

  return {
    element,
    async load() {
      await load(status, async () => show(await api(`/analytics/reports/monthly?month=${month}`)));
    },
  };
}
