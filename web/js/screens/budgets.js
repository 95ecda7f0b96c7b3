// #/budgets — every budget of a period at a glance: a bar per budget (green, amber from the first alert
// threshold, red over), spent of available, what is left, the trend against the period before, what
// rollover carried; totals per currency and "available to budget" for the month. ?month=YYYY-MM (the
// notifier's alert mails link here) or ?on=YYYY-MM-DD picks the period.

import { api } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { formatDate, formatMonth, thisMonth } from "../format.js";
import { formatMoney } from "../money.js";
import { hashParams } from "./ledger.js";

export const PERIOD_LABELS = {
  week: "Weekly", fortnight: "Every two weeks", month: "Monthly", quarter: "Quarterly", year: "Yearly",
};

function shiftMonth(month, by) {
  const [year, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(year, m - 1 + by, 1));
  return d.toISOString().slice(0, 7);
}

/** The level a budget is at: "over" from 100 %, "warn" from its first threshold, else "fine". */
export function budgetLevel(b) {
  const first = Math.min(...(b.thresholds?.length ? b.thresholds : [80]));
  return b.percent >= 100 ? "over" : b.percent >= first ? "warn" : "fine";
}

/** One budget as a row: its name (a link), spent of available, the bar, and what is left or over. */
export function budgetRow(b, { link = true } = {}) {
  const spent = formatMoney(b.spent_minor, b.currency);
  const available = formatMoney(b.available_minor, b.currency);
  const left = b.remaining_minor >= 0
    ? `${formatMoney(b.remaining_minor, b.currency)} left`
    : `${formatMoney(-b.remaining_minor, b.currency)} over`;
  const notes = [`${b.percent}% used`, left];
  if (b.trend_percent !== null && b.trend_percent !== undefined) {
    notes.push(`${b.trend_percent >= 0 ? "+" : ""}${b.trend_percent}% vs last ${b.period_kind === "month" ? "month" : "period"}`);
  }
  if (b.carried_minor) notes.push(`${formatMoney(b.carried_minor, b.currency)} carried over`);
  const name = link ? h("a", { href: `#/budget?id=${b.id}`, text: b.category_name }) : b.category_name;
  return h("li", { class: `budget ${budgetLevel(b)}` },
    h("div", { class: "row-item" },
      h("strong", { class: "grow" }, name),
      h("span", { class: "amount", text: `${spent} of ${available}` })),
    h("progress", { max: 100, value: Math.max(0, Math.min(b.percent, 100)),
      "aria-label": `${b.category_name}: ${b.percent}% of the budget used` }),
    h("small", { class: "muted", text: notes.join(" · ") }),
    b.period_kind !== "month" || b.start_day !== 1
      ? h("small", { class: "muted", text: `${PERIOD_LABELS[b.period_kind]}: ${formatDate(b.period_start)} – ${formatDate(b.period_end)}` })
      : null);
}

export async function renderBudgets(container) {
  const params = hashParams();
  let month = params.get("month") ?? thisMonth();
  const status = statusLine();
  const title = h("h1", {});
  const list = h("ul", { class: "rows budgets" });
  const totals = h("div", { class: "stack" });
  const prev = h("button", { type: "button", class: "small", text: "‹ Previous" });
  const next = h("button", { type: "button", class: "small", text: "Next ›" });
  container.append(
    title,
    h("nav", { class: "row", "aria-label": "Budget pages" },
      h("a", { href: "#/budget", text: "New budget" }),
      h("a", { href: "#/goals", text: "Savings goals" })),
    h("div", { class: "row", role: "group", "aria-label": "Month" }, prev, next),
    status.element,
    h("section", { class: "card stack", "aria-label": "Budgets" }, list),
    h("section", { class: "card stack", "aria-label": "Totals" }, totals));

  async function load() {
    status.clear();
    title.textContent = `Budgets · ${formatMonth(month)}`;
    try {
      const overview = await api(`/budget/budgets/overview?month=${month}`);
      replace(list, overview.items.length ? overview.items.map((b) => budgetRow(b))
        : h("li", { class: "empty", text: "No budgets for this month. Set one with “New budget”." }));
      const lines = overview.totals.map((t) => h("p", { text:
        `${formatMoney(t.spent_minor, t.currency)} spent of ${formatMoney(t.available_minor, t.currency)} · `
        + `${formatMoney(t.remaining_minor, t.currency)} left` }));
      let availableLine = null;
      try {
        const a = await api(`/budget/budgets/available?month=${month}`);
        availableLine = h("p", { class: "available" }, h("strong", { text: "Available to budget: " }),
          h("span", { class: `amount ${a.available_minor < 0 ? "negative" : ""}`, text: formatMoney(a.available_minor, a.currency) }),
          h("small", { class: "muted", text: ` (income ${formatMoney(a.income_minor, a.currency)} − monthly budgets ${formatMoney(a.budgeted_minor, a.currency)})` }));
      } catch {
        availableLine = null; // no currency known yet: nothing to say
      }
      replace(totals, h("h2", { text: "Totals" }), lines, availableLine);
    } catch (error) {
      status.error(error.message);
    }
  }

  prev.addEventListener("click", () => { month = shiftMonth(month, -1); load(); });
  next.addEventListener("click", () => { month = shiftMonth(month, 1); load(); });
  await load();
}
