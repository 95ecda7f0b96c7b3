import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { load, panel } from "./panel.js";

export function reportPanel() {
  const month = thisMonth();
  const { element, body, status } = panel(t("reportPanel.title", { month: formatMonth(month) }), { className: "report" });

  function show(report) {
    if (report.totals.length === 0) {
      replace(body, h("p", { class: "empty" }, t("reportPanel.empty")));
      return;
    }
    const totals = h("dl", { class: "totals" }, report.totals.map((sum) => [
      h("div", {}, h("dt", { text: t("reportPanel.income", { currency: sum.currency }) }),
        h("dd", { class: "amount positive", text: formatMoney(sum.income_minor, sum.currency) })),
      h("div", {}, h("dt", { text: t("reportPanel.expenses", { currency: sum.currency }) }),
        h("dd", { class: "amount negative", text: formatMoney(sum.expense_minor, sum.currency) })),
      h("div", {}, h("dt", { text: t("reportPanel.net", { currency: sum.currency }) }),
        h("dd", { class: `amount ${sum.net_minor < 0 ? "negative" : "positive"}`,
          text: formatMoney(sum.net_minor, sum.currency) })),
    ]));
    const rows = [...report.by_category].sort((a, b) => b.expense_minor - a.expense_minor);
    const table = h("table", { class: "by-category" },
      h("caption", { text: t("reportPanel.byCategory") }),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: t("reportPanel.category") }),
        h("th", { scope: "col", class: "num", text: t("reportPanel.spent") }),
        h("th", { scope: "col", class: "num", text: t("reportPanel.received") }))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        h("th", { scope: "row", text: row.category_name || t("reportPanel.uncategorised") }),
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
