// One goal as a row, the same on the goals screen and a goal's own screen.

import { h } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";

/** A goal's status in the reader's language (read while rendering). */
export function goalStatus(status) {
  return { reached: t("goals.status.reached"), on_track: t("goals.status.onTrack"), behind: t("goals.status.behind"),
    no_date: t("goals.status.noDate") }[status];
}

/** One goal as a row: name (a link), saved (or, paying off a debt, paid off) of target, the bar, status,
 * the monthly amount needed and when the recent pace gets there. */
export function goalRow(g, { link = true } = {}) {
  const level = g.status === "behind" ? "warn" : "fine";
  const debt = g.kind === "debt";
  const money = (minor) => formatMoney(minor, g.currency);
  const notes = [`${g.percent}%`, goalStatus(g.status)];
  if (debt && g.owed_minor) notes.push(t("goals.owed", { money: money(g.owed_minor) }));
  if (g.target_date) notes.push(t("goals.by", { date: formatDate(g.target_date) }));
  if (g.needed_per_month_minor) notes.push(t("goals.perMonth", { money: money(g.needed_per_month_minor) }));
  if (g.projected_date && g.status !== "reached") notes.push(t("goals.projected", { date: formatDate(g.projected_date) }));
  if (g.account_name) notes.push(t(debt ? "goals.paysOff" : "goals.follows", { account: g.account_name }));
  const amounts = { saved: money(g.saved_minor), target: money(g.target_minor) };
  return h("li", { class: `budget goal ${level}` },
    h("div", { class: "row-item" },
      h("strong", { class: "grow" }, link ? h("a", { href: `#/goal?id=${g.id}`, text: g.name }) : g.name),
      h("span", { class: "amount", text: t(debt ? "goals.paidOf" : "goals.savedOf", amounts) })),
    h("progress", { max: 100, value: Math.max(0, Math.min(g.percent, 100)),
      "aria-label": t(debt ? "goals.paidBarLabel" : "goals.barLabel", { name: g.name, percent: g.percent }) }),
    h("small", { class: "muted", text: notes.join(" · ") }));
}
