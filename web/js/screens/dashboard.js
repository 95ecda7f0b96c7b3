// #/dashboard — the household at a glance: this month's income, spending and savings rate; income against
// expenses over the last six months; the balance forecast with its band (30 or 90 days); each budget's
// spending so far and where it is heading; this month's savings opportunities (each opens the transactions
// behind it); recent unusual spending (mark one as expected to silence it); this month's spending by
// category as a donut (each slice opens the category's transactions of the month).
// Every chart has its figures as a table too (widgets/chart.js).

import { api } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { formatDate, formatNumber, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { budgetBar } from "../widgets/budgetbar.js";
import { baseOptions, CHART_COLORS, chartFigure, major } from "../widgets/chart.js";
import { donutFigure } from "../widgets/donut.js";
import { drillDown } from "../widgets/drilldown.js";

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
  return rate === null || rate === undefined ? "—"
    : `${formatNumber(rate * 100, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false })} %`;
}

/** What a savings opportunity is about, with the figures behind it (see analytics' GET /savings). */
export function savingsText(o) {
  const money = (amount) => formatMoney(amount, o.currency);
  const every = (period) => t(`dashboard.savingsEvery.${period}`);
  const percent = `+${formatNumber(o.change_percent ?? 0)} %`;
  if (o.kind === "above_median") {
    return t("dashboard.savingsAboveMedian", { name: o.name, amount: money(o.amount_minor), percent,
      median: money(o.baseline_minor), months: o.baseline_months });
  }
  if (o.kind === "price_rise") {
    return t("dashboard.savingsPriceRise", { name: o.name, new: money(o.amount_minor), old: money(o.baseline_minor),
      every: every(o.period), date: formatDate(o.changed_on), yearly: money(o.yearly_minor),
      extra: money(o.extra_yearly_minor) });
  }
  if (o.kind === "duplicate") {
    const each = o.series.map((s) => `${s.name} ${money(s.amount_minor)} ${every(s.period)}`).join(", ");
    return t("dashboard.savingsDuplicate", { count: o.series.length, name: o.name, each, yearly: money(o.yearly_minor) });
  }
  return t("dashboard.savingsFees", { name: o.name, amount: money(o.amount_minor), yearly: money(o.yearly_minor) });
}

/** A card with a heading; `name` makes its id (the same in every language). */
function section(name, title, ...children) {
  const id = `dash-${name}`;
  return h("section", { class: "card stack", "aria-labelledby": id }, h("h2", { id, text: title }), ...children);
}

export async function renderDashboard(container) {
  const status = statusLine();
  const month = thisMonth();
  const charts = [];
  const heading = h("h1", { text: t("dashboard.title") });
  const totals = h("div", { class: "stack" });
  const flow = h("div", { class: "stack" });
  const forecastBody = h("div", { class: "stack" });
  const budgets = h("div", { class: "stack" });
  const unusual = h("div", { class: "stack" });
  const savings = h("div", { class: "stack" });
  const shares = h("div", { class: "stack" });
  const horizon = h("select", { "aria-label": t("dashboard.horizon") },
    h("option", { value: "30" }, t("dashboard.days", { count: 30 })), h("option", { value: "90" }, t("dashboard.days", { count: 90 })));
  container.append(heading, status.element,
    section("this-month", t("dashboard.thisMonth"), totals),
    section("category-shares", t("dashboard.shares"), shares),
    section("income-and-expenses", t("dashboard.incomeAndExpenses"), flow),
    section("balance-forecast", t("dashboard.forecast"), h("div", { class: "row" }, horizon), forecastBody),
    section("budgets", t("dashboard.budgets"), budgets),
    section("savings", t("dashboard.savings"), savings),
    section("unusual-spending", t("dashboard.unusual"), unusual));

  function keep(figure) {
    charts.push(figure);
    return figure.element;
  }

  async function loadTotals() {
    const report = await api(`/analytics/reports/summary?period=${month}`);
    const cur = report.currency;
    const sum = report.totals;
    replace(totals, h("dl", { class: "totals" },
      h("div", {}, h("dt", { text: t("dashboard.income") }), h("dd", { class: "amount positive", text: formatMoney(sum.income_minor, cur) })),
      h("div", {}, h("dt", { text: t("dashboard.expenses") }), h("dd", { class: "amount negative", text: formatMoney(sum.expense_minor, cur) })),
      h("div", {}, h("dt", { text: t("dashboard.netSavings") }), h("dd", { class: "amount", text: formatMoney(sum.net_minor, cur) })),
      h("div", {}, h("dt", { text: t("dashboard.savingsRate") }), h("dd", { class: "savings-rate", text: percent(sum.savings_rate) }))),
    h("p", {}, h("a", { href: `#/reports?period=${month}` }, t("dashboard.openReport"))));
  }

  async function loadFlow() {
    const report = await api(`/analytics/reports/cash-flow?from=${monthsBack(month, 6)}&to=${monthEnd(month)}&granularity=month`);
    const cur = report.currency;
    const labels = report.points.map((p) => p.start.slice(0, 7));
    replace(flow, keep(chartFigure({
      title: t("dashboard.flowChart"),
      summary: t("dashboard.flowSummary", { rate: percent(report.points.at(-1)?.savings_rate) }),
      table: { columns: [t("dashboard.month"), t("dashboard.income"), t("dashboard.expenses"), t("dashboard.savingsRate")],
        rows: report.points.map((p, i) => [labels[i], formatMoney(p.income_minor, cur), formatMoney(p.expense_minor, cur),
          percent(p.savings_rate)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "bar",
        data: { labels, datasets: [
          { label: t("dashboard.income"), data: report.points.map((p) => major(p.income_minor, cur)), backgroundColor: CHART_COLORS.income },
          { label: t("dashboard.expenses"), data: report.points.map((p) => major(p.expense_minor, cur)), backgroundColor: CHART_COLORS.expense },
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
      ? h("p", { class: "hint", text: t("dashboard.fallback", { reason: body.total.fallback_reason ?? t("dashboard.perAccount") }) })
      : null;
    const lowLabel = t("dashboard.low");
    const figure = chartFigure({
      title: t("dashboard.forecastChart", { days: horizon.value }),
      summary: last ? t("dashboard.forecastSummary", { expected: formatMoney(last.expected_minor, cur), date: formatDate(last.day),
        low: formatMoney(last.lower_minor, cur), high: formatMoney(last.upper_minor, cur) }) : "",
      table: { columns: [t("dashboard.day"), t("dashboard.expected"), t("dashboard.lowColumn"), t("dashboard.highColumn")],
        rows: points.map((p) => [formatDate(p.day), formatMoney(p.expected_minor, cur), formatMoney(p.lower_minor, cur),
          formatMoney(p.upper_minor, cur)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "line",
        data: { labels: points.map((p) => p.day.slice(5)), datasets: [
          { label: lowLabel, data: points.map((p) => major(p.lower_minor, cur)), borderWidth: 0, pointRadius: 0, fill: false },
          { label: t("dashboard.likelyRange"), data: points.map((p) => major(p.upper_minor, cur)), borderWidth: 0, pointRadius: 0,
            backgroundColor: CHART_COLORS.band, fill: "-1" },
          { label: t("dashboard.expectedBalance"), data: points.map((p) => major(p.expected_minor, cur)), borderColor: CHART_COLORS.line,
            pointRadius: 0, fill: false },
        ] },
        options: baseOptions({ plugins: { legend: { labels: { filter: (item) => item.text !== lowLabel } } } }),
      }),
    });
    const known = body.known_items.slice(0, 5).map((i) => h("li", {},
      `${formatDate(i.day)} · ${i.name}: ${formatMoney(i.amount_minor, cur)}`));
    replace(forecastBody, note, keep(figure),
      known.length ? h("div", {}, h("h3", { text: t("dashboard.scheduled") }), h("ul", {}, known)) : null);
  }

  async function loadBudgets() {
    const body = await api("/analytics/forecasts/categories");
    const cur = body.currency;
    const rows = body.categories.filter((c) => c.budget_minor);
    if (!rows.length) {
      replace(budgets, h("p", { class: "empty", text: t("dashboard.noBudgets") }));
      return;
    }
    replace(budgets, h("ul", { class: "rows budgets" }, rows.map((c) => {
      const chance = c.probability_over_budget === null ? ""
        : ` · ${t("dashboard.chanceOver", { percent: Math.round(c.probability_over_budget * 100) })}`;
      return budgetBar({ name: c.name, spentMinor: c.spent_minor, availableMinor: c.budget_minor, currency: cur,
        notes: [`${t("dashboard.heading", { money: formatMoney(c.expected_minor, cur) })}${chance}`] });
    })));
  }

  async function loadSavings() {
    const body = await api(`/analytics/savings?month=${month}`);
    if (!body.opportunities.length) {
      replace(savings, h("p", { class: "empty", text: t("dashboard.noSavings") }));
      return;
    }
    replace(savings, h("ul", { class: "savings" }, body.opportunities.map((o) =>
      h("li", {}, h("a", { href: `#/transactions?q=${encodeURIComponent(o.query)}` }, savingsText(o))))));
  }

  async function loadUnusual() {
    const items = await api("/analytics/unusual?limit=5");
    if (!items.length) {
      replace(unusual, h("p", { class: "empty", text: t("dashboard.nothingUnusual") }));
      return;
    }
    replace(unusual, h("ul", { class: "unusual" }, items.map((u) => {
      const mark = h("button", { type: "button", class: "link", disabled: u.expected,
        onclick: async () => {
          mark.disabled = true;
          try {
            await api(`/analytics/unusual/${u.transaction_id}/expected`, { method: "POST" });
            mark.textContent = t("dashboard.markedExpected");
          } catch (error) {
            mark.disabled = false;
            status.error(error.message);
          }
        } }, u.expected ? t("dashboard.markedExpected") : t("dashboard.markExpected"));
      return h("li", {},
        h("a", { href: `#/transaction?id=${u.transaction_id}` },
          `${formatDate(u.booked_on)} · ${u.payee || u.category_name}: ${formatMoney(u.amount_minor, u.currency)}`),
        h("small", { class: "hint", text: ` ${t("dashboard.usually", { money: formatMoney(u.typical_minor, u.currency), category: u.category_name })}` }),
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
  // This month's spending by category: shares of the whole, each slice a link to its transactions.
  async function loadShares() {
    const report = await api(`/analytics/reports/summary?period=${month}`);
    const cur = report.currency;
    const spending = report.by_category.filter((l) => l.side === "expense" && l.amount_minor > 0);
    if (!spending.length) {
      replace(shares, h("p", { class: "empty", text: t("dashboard.noShares") }));
      return;
    }
    const spent = spending.reduce((sum, l) => sum + l.amount_minor, 0);
    replace(shares, donutFigure({
      title: t("dashboard.sharesChart"),
      summary: t("dashboard.sharesSummary", { name: spending[0].label, percent: Math.round((spending[0].amount_minor * 100) / spent) }),
      items: spending.map((l) => ({ label: l.label, amount: l.amount_minor, href: drillDown(report.period, l) })),
      money: (minor) => formatMoney(minor, cur),
      table: { columns: [t("reports.category"), t("reports.spent")] },
    }));
  }

  await Promise.all([loadTotals, loadFlow, loadForecast, loadBudgets, loadSavings, loadUnusual, loadShares].map(guarded));
  return () => charts.forEach((c) => c.destroy());
}
