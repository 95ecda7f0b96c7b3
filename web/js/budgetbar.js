// One budget as a bar, the same on the budgets screen, the home panel, a budget's own screen and the
// dashboard: its name (a link or text), spent of available, a bar across the card (green, amber from the
// first alert threshold, red over) and notes under it. Callers pass plain figures, so the budget service's
// overview and analytics' forecast draw the same thing.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { formatMoney } from "./money.js";

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
