// One budget as a bar, the same on the budgets screen, the home panel, a budget's own screen and the
// dashboard: its name (a link or text), spent of available, a bar across the card (green, amber from the
// first alert threshold, red over) and notes under it. Callers pass plain figures, so the budget service's
// overview and analytics' forecast draw the same thing.

import { h } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";

/** The level a budget is at: "over" from 100 %, "warn" from its first threshold (80 % without any). */
export function budgetLevel(percent, thresholds = []) {
  const first = Math.min(...(thresholds.length ? thresholds : [80]));
  return percent >= 100 ? "over" : percent >= first ? "warn" : "fine";
}

/** Whole percent of `available` spent (0 when nothing is available and nothing spent). */
export function percentOf(spentMinor, availableMinor) {
  if (availableMinor <= 0) return spentMinor > 0 ? 100 : 0;
  return Math.floor((spentMinor * 100) / availableMinor);
}

/**
 * A <li> for a list of budgets. `name`, `href` (none: the name as text), `spentMinor`, `availableMinor`,
 * `currency`, `percent` (default: worked out from the two), `thresholds`, `notes` (strings or nodes).
 */
export function budgetBar({ name, href = null, spentMinor, availableMinor, currency, percent = null,
  thresholds = [], notes = [] }) {
  const used = percent ?? percentOf(spentMinor, availableMinor);
  const spent = formatMoney(spentMinor, currency);
  const available = formatMoney(availableMinor, currency);
  return h("li", { class: `budget ${budgetLevel(used, thresholds)}` },
    h("div", { class: "row-item" },
      h("strong", { class: "grow" }, href ? h("a", { href, text: name }) : name),
      h("span", { class: "amount", text: t("budgets.spentOf", { spent, available }) })),
    h("progress", { max: 100, value: Math.max(0, Math.min(used, 100)),
      "aria-label": t("budgets.barLabel", { name, percent: used }) }),
    notes.filter(Boolean).map((note) => (typeof note === "string" ? h("small", { class: "muted", text: note }) : note)));
}

/** The period kinds and their names in the reader's language (read while rendering). */
export function periodLabels() {
  return {
    week: t("budgets.period.week"), fortnight: t("budgets.period.fortnight"), month: t("budgets.period.month"),
    quarter: t("budgets.period.quarter"), year: t("budgets.period.year"),
  };
}

/** The day before `day` (YYYY-MM-DD), as YYYY-MM-DD. */
function dayBefore(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** The trend note: against the same day of the period before while a period is under way (its pace),
 * against the whole period before once it is over — and it says which. */
function trendNote(b) {
  if (b.trend_percent === null || b.trend_percent === undefined) return null;
  const change = `${b.trend_percent >= 0 ? "+" : ""}${b.trend_percent}`;
  const month = b.period_kind === "month";
  if (b.compared_through && b.compared_through !== dayBefore(b.period_start)) {
    const day = formatDate(b.compared_through);
    return month ? t("budgets.trendMonthPace", { change, day }) : t("budgets.trendPeriodPace", { change, day });
  }
  return month ? t("budgets.trendMonth", { change }) : t("budgets.trendPeriod", { change });
}

/** One budget of the budget service as a row (budgetBar): its name (a link), spent of available, the bar,
 * what is left or over, the trend, what rollover carried, and its period when not a calendar month;
 * `extra`, a note of the caller's under it (the budgets screen: one member's share). */
export function budgetRow(b, { link = true, extra = null } = {}) {
  const left = b.remaining_minor >= 0
    ? t("budgets.left", { money: formatMoney(b.remaining_minor, b.currency) })
    : t("budgets.over", { money: formatMoney(-b.remaining_minor, b.currency) });
  const notes = [t("budgets.used", { percent: b.percent }), left, trendNote(b)];
  if (b.carried_minor) notes.push(t("budgets.carried", { money: formatMoney(b.carried_minor, b.currency) }));
  return budgetBar({
    name: b.category_name, href: link ? `#/budget?id=${b.id}` : null, spentMinor: b.spent_minor,
    availableMinor: b.available_minor, currency: b.currency, percent: b.percent, thresholds: b.thresholds ?? [],
    notes: [notes.filter(Boolean).join(" · "),
      b.period_kind !== "month" || b.start_day !== 1
        ? t("budgets.periodRange", {
          period: periodLabels()[b.period_kind], start: formatDate(b.period_start), end: formatDate(b.period_end) })
        : null, extra],
  });
}

/** What `shares` (one member's share per category and currency) add up to for budget `b`: its category, or
 * every category of its group; null for a budget whose period is not the calendar month shares are of. */
export function memberShare(b, shares, categories) {
  if (b.period_kind !== "month" || b.start_day !== 1) return null;
  const ids = new Set(b.category_id ? [b.category_id]
    : categories.filter((c) => c.group === b.group).map((c) => c.id));
  return shares.filter((s) => s.currency === b.currency && ids.has(s.category_id))
    .reduce((sum, s) => sum + s.amount_minor, 0);
}
