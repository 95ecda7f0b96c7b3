// Charts, shared by the dashboard, the reports screen, a budget's and a goal's screen.
// Chart.js is vendored (web/vendor/chartjs) and loaded on first use by a <script src> from our own origin,
// so the page's CSP (script-src 'self') needs no exception. Every chart comes with a data table (in a
// <details> under it) holding the same figures: the canvas is an image to screen readers, the table is
// what they read.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { minorDigits } from "../money.js";

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
