// #/goals — savings goals: progress bars, what each needs per month, on track or behind; a new goal saved
// by hand (contributions) or following an account's balance.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { fillSelect } from "../panels/panel.js";

export const GOAL_STATUS = { reached: "Reached", on_track: "On track", behind: "Behind", no_date: "No target date" };

/** One goal as a row: name (a link), saved of target, the bar, status and the monthly amount needed. */
export function goalRow(g, { link = true } = {}) {
  const level = g.status === "behind" ? "warn" : "fine";
  const notes = [`${g.percent}%`, GOAL_STATUS[g.status]];
  if (g.target_date) notes.push(`by ${formatDate(g.target_date)}`);
  if (g.needed_per_month_minor) notes.push(`${formatMoney(g.needed_per_month_minor, g.currency)} a month needed`);
  if (g.account_name) notes.push(`follows ${g.account_name}`);
  return h("li", { class: `budget goal ${level}` },
    h("div", { class: "row-item" },
      h("strong", { class: "grow" }, link ? h("a", { href: `#/goal?id=${g.id}`, text: g.name }) : g.name),
      h("span", { class: "amount", text: `${formatMoney(g.saved_minor, g.currency)} of ${formatMoney(g.target_minor, g.currency)}` })),
    h("progress", { max: 100, value: Math.max(0, Math.min(g.percent, 100)), "aria-label": `${g.name}: ${g.percent}% saved` }),
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
  const form = h("form", { class: "stack", "aria-label": "New goal" }, h("h2", { text: "New goal" }),
    h("div", { class: "row" }, field("Name", name), field(`Target (${currency})`, target)),
    h("div", { class: "row" }, field("Target date", date, "Optional."),
      field("Saved in", account, "An account's balance, or contributions you add by hand.")),
    h("button", { type: "submit", class: "primary" }, "Create goal"), formStatus.element);
  container.append(h("h1", { text: "Savings goals" }), h("p", {}, h("a", { href: "#/budgets", text: "‹ Budgets" })),
    status.element, h("section", { class: "card stack", "aria-label": "Goals" }, list), h("section", { class: "card" }, form));

  try {
    const { items: accounts } = await api("/ledger/accounts");
    fillSelect(account, [{ value: "", label: "Contributions by hand" },
      ...accounts.filter((a) => a.currency === currency && !a.archived).map((a) => ({ value: a.id, label: a.name }))]);
  } catch (error) {
    status.error(error.message);
  }

  onSubmit(form, formStatus, async () => {
    const parsed = parseAmount(target.value, minorDigits(currency));
    if (!parsed.ok) return formStatus.error(`Target: ${parsed.error}`);
    const body = { name: name.value.trim(), target_minor: parsed.minor, currency };
    if (date.value) body.target_date = date.value;
    if (account.value) body.account_id = account.value;
    const created = await api("/budget/goals", { method: "POST", body });
    navigate(`/goal?id=${created.id}`);
    return undefined;
  });

  try {
    const { items } = await api("/budget/goals");
    replace(list, items.length ? items.map((g) => goalRow(g)) : h("li", { class: "empty", text: "No goals yet." }));
  } catch (error) {
    status.error(error.message);
  }
}
