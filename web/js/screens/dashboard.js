// #/dashboard — the household at a glance: this month's income, spending and savings rate; income against
// expenses over the last six months; the balance forecast with its band (30 or 90 days); each budget's
// spending so far and where it is heading; recent unusual spending (mark one as expected to silence it).
// Every chart has its figures as a table too (panels/report.js).

import { api } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { formatDate, thisMonth } from "../format.js";
import { formatMoney } from "../money.js";
import { CHART_COLORS, baseOptions, chartFigure, major } from "../panels/report.js";

function monthsBack(month, count) {
  const [year, m] = month.split("-").map(Number);
  const first = new Date(Date.UTC(year, m - 1 - count + 1, 1));
  return first.toISOString().slice(0, 10);
}

function monthEnd(month) {
  const [year, m] = month.split("-").map(Number);
  return new Date(Date.UTC(year, m, 0)).toISOString().slice(0, 10);
}

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)} %`;
}

function section(title, ...children) {
  const id = `dash-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { class: "card stack", "aria-labelledby": id }, h("h2", { id, text: title }), ...children);
}

export async function renderDashboard(container) {
  const status = statusLine();
  const month = thisMonth();
  const charts = [];
  const heading = h("h1", { text: "Dashboard" });
  const totals = h("div", { class: "stack" });
  const flow = h("div", { class: "stack" });
  const forecastBody = h("div", { class: "stack" });
  const budgets = h("div", { class: "stack" });
  const unusual = h("div", { class: "stack" });
  const horizon = h("select", { "aria-label": "Forecast horizon" },
    h("option", { value: "30" }, "30 days"), h("option", { value: "90" }, "90 days"));
  container.append(heading, status.element,
    section("This month", totals),
    section("Income and expenses", flow),
    section("Balance forecast", h("div", { class: "row" }, horizon), forecastBody),
    section("Budgets", budgets),
    section("Unusual spending", unusual));

  function keep(figure) {
    charts.push(figure);
    return figure.element;
  }

  async function loadTotals() {
    const report = await api(`/analytics/reports/summary?period=${month}`);
    const cur = report.currency;
    const t = report.totals;
    replace(totals, h("dl", { class: "totals" },
      h("div", {}, h("dt", { text: "Income" }), h("dd", { class: "amount positive", text: formatMoney(t.income_minor, cur) })),
      h("div", {}, h("dt", { text: "Expenses" }), h("dd", { class: "amount negative", text: formatMoney(t.expense_minor, cur) })),
      h("div", {}, h("dt", { text: "Net savings" }), h("dd", { class: "amount", text: formatMoney(t.net_minor, cur) })),
      h("div", {}, h("dt", { text: "Savings rate" }), h("dd", { class: "savings-rate", text: percent(t.savings_rate) }))),
    h("p", {}, h("a", { href: `#/reports?period=${month}` }, "Open this month's report")));
  }

  async function loadFlow() {
    const report = await api(`/analytics/reports/cash-flow?from=${monthsBack(month, 6)}&to=${monthEnd(month)}&granularity=month`);
    const cur = report.currency;
    const labels = report.points.map((p) => p.start.slice(0, 7));
    replace(flow, keep(chartFigure({
      title: "Income and expenses, last six months",
      summary: `Savings rate this month ${percent(report.points.at(-1)?.savings_rate)}.`,
      table: { columns: ["Month", "Income", "Expenses", "Savings rate"],
        rows: report.points.map((p, i) => [labels[i], formatMoney(p.income_minor, cur), formatMoney(p.expense_minor, cur),
          percent(p.savings_rate)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "bar",
        data: { labels, datasets: [
          { label: "Income", data: report.points.map((p) => major(p.income_minor, cur)), backgroundColor: CHART_COLORS.income },
          { label: "Expenses", data: report.points.map((p) => major(p.expense_minor, cur)), backgroundColor: CHART_COLORS.expense },
        ] },
        options: baseOptions(),
      }),
    })));
  }

  async function loadForecast() {
    const body = await api(`/analytics/forecasts/cash-flow?horizon=${horizon.value}`);
    const cur = body.currency;
    const points = body.total.points;
    const last = points.at(-1);
    const note = body.fallback_used
      ? h("p", { class: "hint", text: `Too little history for a full model on some accounts; a simpler estimate is used (${body.total.fallback_reason ?? "per account"}).` })
      : null;
    const figure = chartFigure({
      title: `Balance forecast, next ${horizon.value} days`,
      summary: last ? `Expected ${formatMoney(last.expected_minor, cur)} on ${formatDate(last.day)}, likely between ${formatMoney(last.lower_minor, cur)} and ${formatMoney(last.upper_minor, cur)}.` : "",
      table: { columns: ["Day", "Expected", "Low (10 %)", "High (90 %)"],
        rows: points.map((p) => [formatDate(p.day), formatMoney(p.expected_minor, cur), formatMoney(p.lower_minor, cur),
          formatMoney(p.upper_minor, cur)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "line",
        data: { labels: points.map((p) => p.day.slice(5)), datasets: [
          { label: "Low", data: points.map((p) => major(p.lower_minor, cur)), borderWidth: 0, pointRadius: 0, fill: false },
          { label: "Likely range", data: points.map((p) => major(p.upper_minor, cur)), borderWidth: 0, pointRadius: 0,
            backgroundColor: CHART_COLORS.band, fill: "-1" },
          { label: "Expected balance", data: points.map((p) => major(p.expected_minor, cur)), borderColor: CHART_COLORS.line,
            pointRadius: 0, fill: false },
        ] },
        options: baseOptions({ plugins: { legend: { labels: { filter: (item) => item.text !== "Low" } } } }),
      }),
    });
    const known = body.known_items.slice(0, 5).map((i) => h("li", {},
      `${formatDate(i.day)} · ${i.name}: ${formatMoney(i.amount_minor, cur)}`));
    replace(forecastBody, note, keep(figure),
      known.length ? h("div", {}, h("h3", { text: "Scheduled items included" }), h("ul", {}, known)) : null);
  }

  async function loadBudgets() {
    const body = await api("/analytics/forecasts/categories");
    const cur = body.currency;
    const rows = body.categories.filter((c) => c.budget_minor);
    if (!rows.length) {
      replace(budgets, h("p", { class: "empty", text: "No monthly budgets yet." }));
      return;
    }
    replace(budgets, h("ul", { class: "budget-bars" }, rows.map((c) => {
      const chance = c.probability_over_budget === null ? "" : ` · ${Math.round(c.probability_over_budget * 100)} % chance to go over`;
      return h("li", { class: "stack" },
        h("span", { text: `${c.name}: ${formatMoney(c.spent_minor, cur)} of ${formatMoney(c.budget_minor, cur)}` }),
        h("meter", { min: 0, max: c.budget_minor, high: Math.round(c.budget_minor * 0.9), optimum: 0,
          value: Math.min(c.spent_minor, c.budget_minor), "aria-label": `${c.name} spent of budget` }),
        h("small", { class: "hint", text: `Heading for ${formatMoney(c.expected_minor, cur)} by month end${chance}` }));
    })));
  }

  async function loadUnusual() {
    const items = await api("/analytics/unusual?limit=5");
    if (!items.length) {
      replace(unusual, h("p", { class: "empty", text: "Nothing unusual lately." }));
      return;
    }
    replace(unusual, h("ul", { class: "unusual" }, items.map((u) => {
      const mark = h("button", { type: "button", class: "link", disabled: u.expected,
        onclick: async () => {
          mark.disabled = true;
          try {
            await api(`/analytics/unusual/${u.transaction_id}/expected`, { method: "POST" });
            mark.textContent = "Expected";
          } catch (error) {
            mark.disabled = false;
            status.error(error.message);
          }
        } }, u.expected ? "Expected" : "Mark as expected");
      return h("li", {},
        h("a", { href: `#/transaction?id=${u.transaction_id}` },
          `${formatDate(u.booked_on)} · ${u.payee || u.category_name}: ${formatMoney(u.amount_minor, u.currency)}`),
        h("small", { class: "hint", text: ` usually ${formatMoney(u.typical_minor, u.currency)} in ${u.category_name}` }),
        " ", mark);
    })));
  }

  async function guarded(loader) {
    try {
      await loader();
    } catch (error) {
      status.error(error.message);
    }
  }

  horizon.addEventListener("change", () => guarded(loadForecast));
  await Promise.all([loadTotals, loadFlow, loadForecast, loadBudgets, loadUnusual].map(guarded));
  return () => charts.forEach((c) => c.destroy());
}
