// #/goals — goals: progress bars, what each needs per month, on track or behind, where the recent pace
// leads; a new goal saved by hand (contributions) or following an account's balance, or paying off the debt
// of a loan or credit-card account (its balance, owed, to zero).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { goalRow } from "../widgets/goalrow.js";
import { fillSelect } from "../widgets/inputs.js";

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
