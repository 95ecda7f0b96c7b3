import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits } from "../money.js";
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

// --- charts (shared by the dashboard and the reports screen) ---------------------------------------------
// Chart.js is vendored (web/vendor/chartjs) and loaded on first use by a <script src> from our own origin,
// so the page's CSP (script-src 'self') needs no exception. Every chart comes with a data table (in a
// <details> under it) holding the same figures: the canvas is an image to screen readers, the table is
// what they read.

let chartLibrary = null;

export function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    if (window.Chart) {
      resolve(window.Chart);
      return;
    }
    const script = h("script", { src: "/vendor/chartjs/chart.umd.js" });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => {
      chartLibrary = null;
      reject(new Error(t("reportPanel.chartUnavailable")));
    });
    document.head.append(script);
  });
  return chartLibrary;
}

const COLORS = { income: "#2e7d32", expense: "#c62828", line: "#1565c0", band: "rgba(21, 101, 192, 0.18)" };
export const CHART_COLORS = COLORS;

/**
 * A <figure> with a chart and its data table. `table` is { columns: [..], rows: [[..], ..] } of strings;
 * `build(Chart, canvas)` makes the chart. Returns { element, destroy }.
 */
export function chartFigure({ title, summary, table, build }) {
  const canvas = h("canvas", { role: "img", "aria-label": `${title}. ${summary}`, height: 240, width: 480 });
  const tableElement = h("table", {},
    h("caption", { text: title }),
    h("thead", {}, h("tr", {}, table.columns.map((c, i) => h("th", { scope: "col", class: i ? "num" : null, text: c })))),
    h("tbody", {}, table.rows.map((row) => h("tr", {}, row.map((cell, i) => (i === 0
      ? h("th", { scope: "row", text: cell })
      : h("td", { class: "num", text: cell })))))));
  const element = h("figure", { class: "chart" },
    h("figcaption", { text: title }),
    h("div", { class: "chart-canvas" }, canvas),
    h("details", {}, h("summary", { text: t("reportPanel.showTable") }),
      h("div", { class: "table-scroll" }, tableElement)));
  let chart = null;
  loadChartLibrary()
    .then((Chart) => { if (canvas.isConnected || element.isConnected) chart = build(Chart, canvas); })
    .catch(() => { element.querySelector("details").open = true; }); // the table still tells everything
  return { element, destroy: () => chart?.destroy() };
}

/** Chart.js options shared by every chart: responsive, no animation (calm, and fast to test). */
export function baseOptions(extra = {}) {
  return { responsive: true, maintainAspectRatio: true, aspectRatio: 2, animation: false,
    plugins: { legend: { labels: { boxWidth: 12 } } }, ...extra };
}

/** Minor units → a number in major units, for chart axes (tables show formatMoney). */
export function major(minor, currency) {
  return minor / 10 ** minorDigits(currency);
}
