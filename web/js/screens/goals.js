// #/goals — savings goals: progress bars, what each needs per month, on track or behind; a new goal saved
// by hand (contributions) or following an account's balance.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { fillSelect } from "../panels/panel.js";

/** A goal's status in the reader's language (read while rendering). */
export function goalStatus(status) {
  return { reached: t("goals.status.reached"), on_track: t("goals.status.onTrack"), behind: t("goals.status.behind"),
    no_date: t("goals.status.noDate") }[status];
}

/** One goal as a row: name (a link), saved of target, the bar, status and the monthly amount needed. */
export function goalRow(g, { link = true } = {}) {
  const level = g.status === "behind" ? "warn" : "fine";
  const notes = [`${g.percent}%`, goalStatus(g.status)];
  if (g.target_date) notes.push(t("goals.by", { date: formatDate(g.target_date) }));
  if (g.needed_per_month_minor) notes.push(t("goals.perMonth", { money: formatMoney(g.needed_per_month_minor, g.currency) }));
  if (g.account_name) notes.push(t("goals.follows", { account: g.account_name }));
  return h("li", { class: `budget goal ${level}` },
    h("div", { class: "row-item" },
      h("strong", { class: "grow" }, link ? h("a", { href: `#/goal?id=${g.id}`, text: g.name }) : g.name),
      h("span", { class: "amount", text: t("goals.savedOf", {
        saved: formatMoney(g.saved_minor, g.currency), target: formatMoney(g.target_minor, g.currency) }) })),
    h("progress", { max: 100, value: Math.max(0, Math.min(g.percent, 100)), "aria-label": t("goals.barLabel", { name: g.name, percent: g.percent }) }),
    h("small", { class: "muted", text: notes.join(" · ") }));
}

export async function renderGoals(container, { navigate }) {
  const status = statusLine();
  const list = h("ul", { class: "rows" });
  const me = await api("/auth/me").catch(() => ({}));
  const currency = me.base_currency ?? "EUR";
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const target = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const date = h("input", { type: "date" });
  const account = h("select", {});
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("goals.newGoal") }, h("h2", { text: t("goals.newGoal") }),
    h("div", { class: "row" }, field(t("goals.name"), name), field(t("goals.target", { currency }), target)),
    h("div", { class: "row" }, field(t("goals.targetDate"), date, t("goals.optional")),
      field(t("goals.savedIn"), account, t("goals.savedInHint"))),
    h("button", { type: "submit", class: "primary" }, t("goals.create")), formStatus.element);
  container.append(h("h1", { text: t("goals.title") }), h("p", {}, h("a", { href: "#/budgets", text: t("goals.budgets") })),
    status.element, h("section", { class: "card stack", "aria-label": t("goals.list") }, list), h("section", { class: "card" }, form));

  // The form is on screen from here: its submit is handled before anything is awaited (a click while the
  // accounts were read would otherwise submit it the browser's way, reloading the page).
  onSubmit(form, formStatus, async () => {
    const parsed = parseAmount(target.value, minorDigits(currency));
    if (!parsed.ok) return formStatus.error(t("goals.targetError", { error: parsed.error }));
    const body = { name: name.value.trim(), target_minor: parsed.minor, currency };
    if (date.value) body.target_date = date.value;
    if (account.value) body.account_id = account.value;
    const created = await api("/budget/goals", { method: "POST", body });
    navigate(`/goal?id=${created.id}`);
    return undefined;
  });

  try {
    const { items: accounts } = await api("/ledger/accounts");
    fillSelect(account, [{ value: "", label: t("goals.byHand") },
      ...accounts.filter((a) => a.currency === currency && !a.archived).map((a) => ({ value: a.id, label: a.name }))]);
  } catch (error) {
    status.error(error.message);
  }

  try {
    const { items } = await api("/budget/goals");
    replace(list, items.length ? items.map((g) => goalRow(g)) : h("li", { class: "empty", text: t("goals.empty") }));
  } catch (error) {
    status.error(error.message);
  }
}
