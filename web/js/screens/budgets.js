// #/budgets — every budget of a period at a glance: a bar per budget (green, amber from the first alert
// threshold, red over), spent of available, what is left, the trend against the period before, what
// rollover carried; totals per currency and "available to budget" for the month. ?month=YYYY-MM (the
// notifier's alert mails link here) or ?on=YYYY-MM-DD picks the period.

import { api } from "../api.js";
import { h, replace, statusLine } from "../dom.js";
import { formatDate, formatMonth, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { hashParams } from "./ledger.js";

/** The period kinds and their names in the reader's language (read while rendering). */
export function periodLabels() {
  return {
    week: t("budgets.period.week"), fortnight: t("budgets.period.fortnight"), month: t("budgets.period.month"),
    quarter: t("budgets.period.quarter"), year: t("budgets.period.year"),
  };
}

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
    ? t("budgets.left", { money: formatMoney(b.remaining_minor, b.currency) })
    : t("budgets.over", { money: formatMoney(-b.remaining_minor, b.currency) });
  const notes = [t("budgets.used", { percent: b.percent }), left];
  if (b.trend_percent !== null && b.trend_percent !== undefined) {
    const change = `${b.trend_percent >= 0 ? "+" : ""}${b.trend_percent}`;
    notes.push(b.period_kind === "month" ? t("budgets.trendMonth", { change }) : t("budgets.trendPeriod", { change }));
  }
  if (b.carried_minor) notes.push(t("budgets.carried", { money: formatMoney(b.carried_minor, b.currency) }));
  const name = link ? h("a", { href: `#/budget?id=${b.id}`, text: b.category_name }) : b.category_name;
  return h("li", { class: `budget ${budgetLevel(b)}` },
    h("div", { class: "row-item" },
      h("strong", { class: "grow" }, name),
      h("span", { class: "amount", text: t("budgets.spentOf", { spent, available }) })),
    h("progress", { max: 100, value: Math.max(0, Math.min(b.percent, 100)),
      "aria-label": t("budgets.barLabel", { name: b.category_name, percent: b.percent }) }),
    h("small", { class: "muted", text: notes.join(" · ") }),
    b.period_kind !== "month" || b.start_day !== 1
      ? h("small", { class: "muted", text: t("budgets.periodRange", {
        period: periodLabels()[b.period_kind], start: formatDate(b.period_start), end: formatDate(b.period_end) }) })
      : null);
}

export async function renderBudgets(container) {
  const params = hashParams();
  let month = params.get("month") ?? thisMonth();
  const status = statusLine();
  const title = h("h1", {});
  const list = h("ul", { class: "rows budgets" });
  const totals = h("div", { class: "stack" });
  const prev = h("button", { type: "button", class: "small", text: t("budgets.previous") });
  const next = h("button", { type: "button", class: "small", text: t("budgets.next") });
  container.append(
    title,
    h("nav", { class: "row", "aria-label": t("budgets.pages") },
      h("a", { href: "#/budget", text: t("budgets.newBudget") }),
      h("a", { href: "#/goals", text: t("budgets.goals") })),
    h("div", { class: "row", role: "group", "aria-label": t("budgets.month") }, prev, next),
    status.element,
    h("section", { class: "card stack", "aria-label": t("budgets.list") }, list),
    h("section", { class: "card stack", "aria-label": t("budgets.totals") }, totals));

  async function load() {
    status.clear();
    title.textContent = t("budgets.title", { month: formatMonth(month) });
    try {
      const overview = await api(`/budget/budgets/overview?month=${month}`);
      replace(list, overview.items.length ? overview.items.map((b) => budgetRow(b))
        : h("li", { class: "empty", text: t("budgets.empty") }));
      const lines = overview.totals.map((sum) => h("p", { text: t("budgets.totalLine", {
        spent: formatMoney(sum.spent_minor, sum.currency), available: formatMoney(sum.available_minor, sum.currency),
        left: formatMoney(sum.remaining_minor, sum.currency) }) }));
      let availableLine = null;
      try {
        const a = await api(`/budget/budgets/available?month=${month}`);
        availableLine = h("p", { class: "available" }, h("strong", { text: t("budgets.availableToBudget") }),
          h("span", { class: `amount ${a.available_minor < 0 ? "negative" : ""}`, text: formatMoney(a.available_minor, a.currency) }),
          h("small", { class: "muted", text: t("budgets.availableDetail", {
            income: formatMoney(a.income_minor, a.currency), budgeted: formatMoney(a.budgeted_minor, a.currency) }) }));
      } catch {
        availableLine = null; // no currency known yet: nothing to say
      }
      replace(totals, h("h2", { text: t("budgets.totals") }), lines, availableLine);
    } catch (error) {
      status.error(error.message);
    }
  }

  prev.addEventListener("click", () => { month = shiftMonth(month, -1); load(); });
  next.addEventListener("click", () => { month = shiftMonth(month, 1); load(); });
  await load();
}
