// #/goals — goals: progress bars, what each needs per month, on track or behind, where the recent pace
// leads; a new goal saved by hand (contributions) or following an account's balance, or paying off the debt
// of a loan or credit-card account (its balance, owed, to zero).

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

export async function renderGoals(container, { navigate }) {
  const status = statusLine();
  const list = h("ul", { class: "rows" });
  const me = await api("/auth/me").catch(() => ({}));
  const currency = me.base_currency ?? "EUR";
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const target = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const date = h("input", { type: "date" });
  const kind = h("select", {});
  fillSelect(kind, [{ value: "savings", label: t("goals.kinds.savings") }, { value: "debt", label: t("goals.kinds.debt") }]);
  const account = h("select", {});
  const targetField = field(t("goals.target", { currency }), target);
  const accountField = field(t("goals.savedIn"), account, t("goals.savedInHint"));
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("goals.newGoal") }, h("h2", { text: t("goals.newGoal") }),
    h("div", { class: "row" }, field(t("goals.name"), name), field(t("goals.kind"), kind)),
    h("div", { class: "row" }, targetField, field(t("goals.targetDate"), date, t("goals.optional"))),
    h("div", { class: "row" }, accountField),
    h("button", { type: "submit", class: "primary" }, t("goals.create")), formStatus.element);
  let accounts = [];
  // Saving up: any account of the goal's currency, or contributions by hand. Paying off debt: a loan or
  // credit card that owes something; its target is what it owes, so there is no target to type.
  function showKind() {
    const debt = kind.value === "debt";
    targetField.hidden = debt;
    target.required = !debt;
    accountField.querySelector("label").textContent = t(debt ? "goals.debtAccount" : "goals.savedIn");
    accountField.querySelector("small").textContent = t(debt ? "goals.debtAccountHint" : "goals.savedInHint");
    const open = accounts.filter((a) => !a.archived);
    fillSelect(account, debt
      ? open.filter((a) => (a.kind === "loan" || a.kind === "credit_card") && a.balance_minor < 0)
        .map((a) => ({ value: a.id, label: t("goals.owes", { account: a.name, money: formatMoney(-a.balance_minor, a.currency) }) }))
      : [{ value: "", label: t("goals.byHand") }, ...open.filter((a) => a.currency === currency).map((a) => ({ value: a.id, label: a.name }))],
    debt ? t("goals.chooseDebt") : null);
  }
  kind.addEventListener("change", showKind);
  container.append(h("h1", { text: t("goals.title") }), h("p", {}, h("a", { href: "#/budgets", text: t("goals.budgets") })),
    status.element, h("section", { class: "card stack", "aria-label": t("goals.list") }, list), h("section", { class: "card" }, form));

  // The form is on screen from here: its submit is handled before anything is awaited (a click while the
  // accounts were read would otherwise submit it the browser's way, reloading the page).
  onSubmit(form, formStatus, async () => {
    const body = { name: name.value.trim() };
    if (kind.value === "debt") {
      if (!account.value) return formStatus.error(t("goals.debtAccountError"));
      body.kind = "debt";
    } else {
      const parsed = parseAmount(target.value, minorDigits(currency));
      if (!parsed.ok) return formStatus.error(t("goals.targetError", { error: parsed.error }));
      Object.assign(body, { target_minor: parsed.minor, currency });
    }
    if (date.value) body.target_date = date.value;
    if (account.value) body.account_id = account.value;
    const created = await api("/budget/goals", { method: "POST", body });
    navigate(`/goal?id=${created.id}`);
    return undefined;
  });

  try {
    ({ items: accounts } = await api("/ledger/accounts"));
    showKind();
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
