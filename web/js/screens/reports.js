// #/reports?period=2025-03 (or 2025-Q1, 2025, or from=…&to=…) — a period's report: totals and savings rate,
// against the previous period and the same period last year, spending by category (a bar, or a slice of
// the donut of category shares beside it, opens the transactions it counted), income and expenses over time, net worth, by group, payee and tag, the largest
// changes; CSV/XLSX export of the report and a PDF statement for a month or a year.

import { api } from "../api.js";
import { attempt, field, h, replace, statusLine } from "../dom.js";
import { formatDate, formatNumber, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { params } from "../router.js";
import { baseOptions, CHART_COLORS, chartFigure, major } from "../widgets/chart.js";
import { donutFigure } from "../widgets/donut.js";
import { drillDown } from "../widgets/drilldown.js";
import { download } from "../widgets/files.js";

/** The kinds of period, with their names in the reader's language (read while rendering). */
function kinds() {
  return [["month", t("reports.kind.month")], ["quarter", t("reports.kind.quarter")], ["year", t("reports.kind.year")],
    ["custom", t("reports.kind.custom")]];
}

const ONE_DECIMAL = { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false };

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${formatNumber(rate * 100, ONE_DECIMAL)} %`;
}

function change(pct) {
  return pct === null || pct === undefined ? "—" : `${formatNumber(pct, { ...ONE_DECIMAL, signDisplay: "exceptZero" })} %`;
}

/** "31 days", "5 weeks", "12 months": how many steps a cash-flow chart has. */
function steps(granularity, count) {
  if (granularity === "day") return t("reports.days", { count });
  if (granularity === "week") return t("reports.weeks", { count });
  return t("reports.months", { count });
}

/** The query of the period in the address (validated by the service; a bad one shows its problem). */
function periodQuery(given) {
  if (given.get("from") || given.get("to")) {
    return `from=${encodeURIComponent(given.get("from") ?? "")}&to=${encodeURIComponent(given.get("to") ?? "")}`;
  }
  return `period=${encodeURIComponent(given.get("period") ?? thisMonth())}`;
}

function picker(given, navigate) {
  const current = given.get("from") ? "custom" : (given.get("period") ?? thisMonth());
  const kindOf = (p) => (p === "custom" ? "custom" : p.includes("Q") ? "quarter" : p.length === 4 ? "year" : "month");
  const kind = h("select", { name: "kind" }, kinds().map(([v, l]) => h("option", { value: v, selected: v === kindOf(current) }, l)));
  const year = current === "custom" ? thisMonth().slice(0, 4) : current.slice(0, 4);
  const monthInput = h("input", { type: "month", name: "month", value: kindOf(current) === "month" ? current : thisMonth() });
  const yearInput = h("input", { type: "number", name: "year", min: 1901, max: 9998, value: year });
  const quarter = h("select", { name: "quarter" }, [1, 2, 3, 4].map((q) => h("option", { value: q,
    selected: current.endsWith(`Q${q}`) }, `Q${q}`)));
  const from = h("input", { type: "date", name: "from", value: given.get("from") ?? "" });
  const to = h("input", { type: "date", name: "to", value: given.get("to") ?? "" });
  const fields = {
    month: [field(t("reports.kind.month"), monthInput)],
    quarter: [field(t("reports.year"), yearInput), field(t("reports.kind.quarter"), quarter)],
    year: [field(t("reports.year"), yearInput)],
    custom: [field(t("reports.from"), from), field(t("reports.to"), to)],
  };
  const slot = h("div", { class: "row" });
  const show = () => replace(slot, fields[kind.value]);
  kind.addEventListener("change", show);
  show();
  const form = h("form", { class: "row period-picker", role: "search", "aria-label": t("reports.periodPicker") },
    field(t("reports.period"), kind), slot, h("button", { type: "submit", class: "primary" }, t("reports.show")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = {
      month: () => `period=${monthInput.value}`,
      quarter: () => `period=${yearInput.value}-Q${quarter.value}`,
      year: () => `period=${yearInput.value}`,
      custom: () => `from=${from.value}&to=${to.value}`,
    }[kind.value]();
    navigate(`/reports?${target}`);
  });
  return form;
}

function linesTable(caption, lines, cur, period, by) {
  if (!lines.length) return h("p", { class: "empty", text: t("reports.linesEmpty", { caption }) });
  return h("div", { class: "table-scroll" }, h("table", {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("reports.name") }), h("th", { scope: "col", text: t("reports.kindColumn") }),
      h("th", { scope: "col", class: "num", text: t("reports.amount") }))),
    h("tbody", {}, lines.map((line) => h("tr", {},
      h("th", { scope: "row" }, by ? h("a", { href: drillDown(period, line, by) }, line.label) : line.label),
      h("td", { text: line.side === "income" ? t("reports.income") : t("reports.spending") }),
      h("td", { class: "num amount", text: formatMoney(line.amount_minor, cur) }))))));
}

export async function renderReports(container, { navigate }) {
  const given = params();
  const query = periodQuery(given);
  const status = statusLine();
  const charts = [];
  const body = h("div", { class: "stack" });
  container.append(h("h1", { text: t("reports.title") }), picker(given, navigate), status.element, body);

  let report;
  let flow;
  let worth;
  try {
    [report, flow, worth] = await Promise.all([
      api(`/analytics/reports/summary?${query}`),
      api(`/analytics/reports/cash-flow?${query}`),
      api(`/analytics/reports/net-worth?${query}`),
    ]);
  } catch (error) {
    status.error(error.message);
    return undefined;
  }
  const cur = report.currency;
  const period = report.period;
  const totals = report.totals;
  const keep = (figure) => { charts.push(figure); return figure.element; };

  const exportStatus = statusLine();
  const run = (action) => () => attempt(exportStatus, action);
  const name = period.label.replace("..", "_");
  const statementable = period.kind === "month" || period.kind === "year";
  const exportsBar = h("div", { class: "row export-buttons" },
    h("button", { type: "button", onclick: run(() => download(`/analytics/exports/summary.csv?${query}`, `tally-report-${name}.csv`)) }, t("reports.exportCsv")),
    h("button", { type: "button", onclick: run(() => download(`/analytics/exports/summary.xlsx?${query}`, `tally-report-${name}.xlsx`)) }, t("reports.exportXlsx")),
    statementable ? h("button", { type: "button", onclick: run(() => download(`/analytics/statements/${period.label}.pdf`, `tally-statement-${name}.pdf`)) }, t("reports.statement")) : null,
    exportStatus.element);

  const comparisons = h("div", { class: "table-scroll" }, h("table", { class: "comparison" },
    h("caption", { text: t("reports.comparedWith") }),
    h("thead", {}, h("tr", {}, ["", t("reports.income"), t("reports.expenses"), t("reports.netSavings"), t("reports.savingsRate"),
      t("reports.spendingChange")].map((c, i) =>
      h("th", { scope: "col", class: i ? "num" : null, text: c })))),
    h("tbody", {}, [[t("reports.thisPeriod"), { period, totals, expense_change_pct: null }, true],
      [t("reports.previousPeriod"), report.vs_previous], [t("reports.lastYear"), report.vs_last_year]].map(([label, c, self]) =>
      h("tr", {}, h("th", { scope: "row", text: `${label} (${c.period.label})` }),
        h("td", { class: "num amount", text: formatMoney(c.totals.income_minor, cur) }),
        h("td", { class: "num amount", text: formatMoney(c.totals.expense_minor, cur) }),
        h("td", { class: "num amount", text: formatMoney(c.totals.net_minor, cur) }),
        h("td", { class: "num", text: percent(c.totals.savings_rate) }),
        h("td", { class: "num", text: self ? "" : change(c.expense_change_pct) }))))));

  const spending = report.by_category.filter((l) => l.side === "expense" && l.amount_minor > 0);
  const categoryChart = spending.length ? keep(chartFigure({
    title: t("reports.byCategoryChart"),
    summary: t("reports.byCategorySummary", { count: spending.length, name: spending[0].label,
      money: formatMoney(spending[0].amount_minor, cur) }),
    table: { columns: [t("reports.category"), t("reports.spent")], rows: spending.map((l) => [l.label, formatMoney(l.amount_minor, cur)]) },
    build: (Chart, canvas) => new Chart(canvas, {
      type: "bar",
      data: { labels: spending.map((l) => l.label),
        datasets: [{ label: t("reports.spentIn", { currency: cur }), data: spending.map((l) => major(l.amount_minor, cur)), backgroundColor: CHART_COLORS.expense }] },
      options: baseOptions({ indexAxis: "y",
        onClick: (_event, elements) => {
          if (elements.length) window.location.hash = drillDown(period, spending[elements[0].index]).slice(1);
        } }),
    }),
  })) : h("p", { class: "empty", text: t("reports.noSpending") });
  // The same spending as shares of the whole, beside the bars (their table is its table too).
  const categoryDonut = spending.length ? donutFigure({
    title: t("reports.sharesChart"),
    summary: t("reports.sharesSummary", { name: spending[0].label,
      percent: Math.round((spending[0].amount_minor * 100) / spending.reduce((sum, l) => sum + l.amount_minor, 0)) }),
    items: spending.map((l) => ({ label: l.label, amount: l.amount_minor, href: drillDown(period, l) })),
    money: (minor) => formatMoney(minor, cur),
  }) : null;

  const flowLabels = flow.points.map((p) => (flow.granularity === "month" ? p.start.slice(0, 7) : formatDate(p.start)));
  const flowChart = keep(chartFigure({
    title: t("reports.flowChart"),
    summary: t("reports.flowSummary", { steps: steps(flow.granularity, flow.points.length),
      income: formatMoney(totals.income_minor, cur), expenses: formatMoney(totals.expense_minor, cur) }),
    table: { columns: [t("reports.from"), t("reports.income"), t("reports.expenses"), t("reports.net")],
      rows: flow.points.map((p, i) => [flowLabels[i], formatMoney(p.income_minor, cur), formatMoney(p.expense_minor, cur), formatMoney(p.net_minor, cur)]) },
    build: (Chart, canvas) => new Chart(canvas, {
      type: "bar",
      data: { labels: flowLabels, datasets: [
        { label: t("reports.income"), data: flow.points.map((p) => major(p.income_minor, cur)), backgroundColor: CHART_COLORS.income },
        { label: t("reports.expenses"), data: flow.points.map((p) => major(p.expense_minor, cur)), backgroundColor: CHART_COLORS.expense },
      ] },
      options: baseOptions(),
    }),
  }));

  const worthChart = keep(chartFigure({
    title: t("reports.netWorth"),
    summary: worth.points.length ? t("reports.netWorthSummary", { money: formatMoney(worth.points.at(-1).net_worth_minor, cur),
      date: formatDate(worth.points.at(-1).end) }) : "",
    table: { columns: [t("reports.until"), t("reports.netWorth"), ...worth.accounts.map((a) => a.name)],
      rows: worth.points.map((p, i) => [formatDate(p.end), formatMoney(p.net_worth_minor, cur),
        ...worth.accounts.map((a) => formatMoney(a.balances_minor[i], cur))]) },
    build: (Chart, canvas) => new Chart(canvas, {
      type: "line",
      data: { labels: worth.points.map((p) => p.end), datasets: [
        { label: t("reports.netWorthIn", { currency: cur }), data: worth.points.map((p) => major(p.net_worth_minor, cur)), borderColor: CHART_COLORS.line, pointRadius: 0 },
      ] },
      options: baseOptions(),
    }),
  }));

  const changes = report.top_changes.length ? h("div", { class: "table-scroll" }, h("table", {},
    h("caption", { text: t("reports.largestChanges") }),
    h("thead", {}, h("tr", {}, [t("reports.name"), t("reports.thisPeriod"), t("reports.previous"), t("reports.change")].map((c, i) => h("th", { scope: "col", class: i ? "num" : null, text: c })))),
    h("tbody", {}, report.top_changes.map((c) => h("tr", {}, h("th", { scope: "row", text: c.label }),
      h("td", { class: "num amount", text: formatMoney(c.current_minor, cur) }),
      h("td", { class: "num amount", text: formatMoney(c.previous_minor, cur) }),
      h("td", { class: "num amount", text: formatMoney(c.change_minor, cur) })))))) : null;

  const others = report.currencies.filter((c) => c !== cur);
  replace(body,
    h("section", { class: "card stack", "aria-labelledby": "report-totals" },
      h("h2", { id: "report-totals", text: `${period.label} · ${formatDate(period.start)} – ${formatDate(period.end)}` }),
      h("dl", { class: "totals" },
        h("div", {}, h("dt", { text: t("reports.income") }), h("dd", { class: "amount positive", text: formatMoney(totals.income_minor, cur) })),
        h("div", {}, h("dt", { text: t("reports.expenses") }), h("dd", { class: "amount negative", text: formatMoney(totals.expense_minor, cur) })),
        h("div", {}, h("dt", { text: t("reports.netSavings") }), h("dd", { class: "amount", text: formatMoney(totals.net_minor, cur) })),
        h("div", {}, h("dt", { text: t("reports.savingsRate") }), h("dd", { class: "savings-rate", text: percent(totals.savings_rate) }))),
      others.length ? h("p", { class: "hint", text: t("reports.otherCurrencies", { currency: cur, others: others.join(", ") }) }) : null,
      comparisons, exportsBar),
    h("section", { class: "card stack", "aria-label": t("reports.charts") },
      h("div", { class: "chart-pair" }, categoryChart, categoryDonut), flowChart, worthChart),
    h("section", { class: "card stack", "aria-label": t("reports.breakdowns") },
      linesTable(t("reports.byGroup"), report.by_group, cur, period, null),
      linesTable(t("reports.byPayee"), report.by_payee, cur, period, "payee"),
      linesTable(t("reports.byTag"), report.by_tag, cur, period, "tag"),
      changes));
  return () => charts.forEach((c) => c.destroy());
}
