// #/shared — expenses shared between the household's members: who owes whom (with the payments that would
// settle it), sharing an expense (who paid; equally, by shares, by exact amounts or for one member), the
// shared expenses behind the figures, and recording a settle-up. Names come from the household's member
// list (auth); the figures from the ledger.

import { api } from "../api.js";
import { attempt, field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";

const METHODS = ["equally", "by_shares", "exactly", "for_one"];

export async function renderShared(container) {
  const status = statusLine();
  const owes = h("div", { class: "stack", "aria-live": "polite" });
  const shareForm = h("div", { class: "stack" });
  const expensesList = h("ul", { class: "rows", "aria-label": t("shared.expensesTitle") });
  const settleForm = h("div", { class: "stack" });
  container.append(
    h("section", { class: "card stack", "aria-labelledby": "shared-title" },
      h("h1", { id: "shared-title", text: t("shared.title") }), h("p", { class: "hint", text: t("shared.intro") }),
      owes, status.element),
    h("section", { class: "card stack", "aria-labelledby": "share-title" },
      h("h2", { id: "share-title", text: t("shared.shareTitle") }), shareForm),
    h("section", { class: "card stack", "aria-labelledby": "settle-title" },
      h("h2", { id: "settle-title", text: t("shared.settleTitle") }), settleForm),
    h("section", { class: "card stack", "aria-labelledby": "shared-expenses-title" },
      h("h2", { id: "shared-expenses-title", text: t("shared.expensesTitle") }), expensesList));

  let members = [];
  let canWrite = false;
  const nameOf = (id) => members.find((m) => m.user_id === id)?.display_name ?? t("shared.formerMember");

  async function load() {
    const [{ members: people }, household, view, { items: recent }] = await Promise.all([
      api("/auth/household/members"), api("/auth/household"), api("/ledger/shared"),
      api("/ledger/transactions?q=type:expense&limit=50")]);
    members = people;
    canWrite = household.role !== "viewer";
    showOwes(view);
    showExpenses(view.expenses);
    const shared = new Set(view.expenses.map((e) => e.transaction_id));
    replace(shareForm, canWrite ? shareExpense(recent.filter((e) => !shared.has(e.id)))
      : h("p", { class: "muted", text: t("shared.viewerHint") }));
    replace(settleForm, canWrite ? settleUp(view) : h("p", { class: "muted", text: t("shared.viewerHint") }));
  }

  function showOwes(view) {
    if (!view.balances.length) {
      replace(owes, h("p", { class: "empty", text: t("shared.allSquare") }));
      return;
    }
    replace(owes,
      h("ul", { class: "rows", "aria-label": t("shared.balances") }, view.balances.map((b) => h("li", { class: "row-item" },
        h("span", { class: "grow", text: nameOf(b.user_id) }),
        h("span", { class: `amount ${b.balance_minor < 0 ? "negative" : "positive"}`,
          text: b.balance_minor < 0 ? t("shared.owes", { money: formatMoney(-b.balance_minor, b.currency) })
            : t("shared.isOwed", { money: formatMoney(b.balance_minor, b.currency) }) })))),
      h("h2", { text: t("shared.toSettle") }),
      h("ul", { class: "rows", "aria-label": t("shared.toSettle") }, view.settle_up.map((p) => h("li", { class: "row-item" },
        h("span", { class: "grow", text: t("shared.pays", { from: nameOf(p.from_user_id), to: nameOf(p.to_user_id),
          money: formatMoney(p.amount_minor, p.currency) }) })))));
  }

  function showExpenses(expenses) {
    replace(expensesList, expenses.length ? expenses.map((e) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { class: "block", text: `${e.payee || t("shared.noPayee")} · ${formatMoney(e.amount_minor, e.currency)}` }),
        h("span", { class: "muted", text: `${formatDate(e.booked_on)} · ${t("shared.paidBy", { name: nameOf(e.paid_by) })} · `
          + e.parts.map((p) => `${nameOf(p.user_id)} ${formatMoney(p.amount_minor, e.currency)}`).join(", ") })),
      canWrite ? h("button", { type: "button", class: "small", "aria-label": t("shared.unshareNamed", { name: e.payee }),
        onclick: () => act(() => api(`/ledger/transactions/${e.transaction_id}/sharing`, { method: "DELETE" }),
          t("shared.unshared")) }, t("shared.unshare")) : null))
      : h("li", { class: "empty", text: t("shared.noneShared") }));
  }

  const act = (action, done) => attempt(status, async () => {
    await action();
    status.ok(done);
    await load();
  });

  function memberOptions(selected) {
    return members.map((m) => h("option", { value: m.user_id, selected: m.user_id === selected }, m.display_name));
  }

  function shareExpense(expenses) {
    if (!expenses.length) return h("p", { class: "muted", text: t("shared.noExpenses") });
    const me = members.find((m) => m.you)?.user_id;
    const expense = h("select", { required: true }, expenses.map((e) => h("option", { value: e.id },
      `${formatDate(e.booked_on)} · ${e.payee || t("shared.noPayee")} · ${formatMoney(e.amount_minor, e.currency)}`)));
    const paidBy = h("select", {}, memberOptions(me));
    const method = h("select", {}, METHODS.map((m) => h("option", { value: m }, t(`shared.methods.${m}`))));
    const rows = members.map((m) => {
      const include = h("input", { type: "checkbox", checked: true, "aria-label": t("shared.includes", { name: m.display_name }) });
      const weight = h("input", { type: "text", inputmode: "decimal", size: 8, value: "1",
        "aria-label": t("shared.partOf", { name: m.display_name }) });
      return { member: m, include, weight };
    });
    const weights = h("fieldset", { class: "stack" }, h("legend", { text: t("shared.forWhom") }),
      rows.map(({ member, include, weight }) => h("div", { class: "row-item" },
        h("label", { class: "check grow" }, include, ` ${member.display_name}`), weight)));
    const hint = h("small", { class: "hint block" });
    const explain = () => { hint.textContent = t(`shared.hints.${method.value}`); };
    method.addEventListener("change", explain);
    explain();
    const form = h("form", { class: "stack", "aria-label": t("shared.shareTitle") },
      field(t("shared.expense"), expense), field(t("shared.paidByLabel"), paidBy), field(t("shared.method"), method),
      weights, hint, h("button", { type: "submit", class: "primary" }, t("shared.share")));
    onSubmit(form, status, async () => {
      const chosen = expenses.find((e) => e.id === expense.value);
      const parts = [];
      for (const { member, include, weight } of rows.filter((r) => r.include.checked)) {
        let value = 1;
        if (method.value === "exactly") {
          const parsed = parseAmount(weight.value, minorDigits(chosen.currency));
          if (!parsed.ok) throw new Error(`${member.display_name}: ${parsed.error}`);
          value = parsed.minor;
        } else if (method.value === "by_shares") {
          value = Number.parseInt(weight.value, 10);
          if (!(value > 0)) throw new Error(t("shared.shareNumber", { name: member.display_name }));
        }
        parts.push({ user_id: member.user_id, weight: value });
      }
      await api(`/ledger/transactions/${chosen.id}/sharing`, { method: "PUT",
        body: { paid_by: paidBy.value, method: method.value, parts } });
      status.ok(t("shared.sharedDone", { payee: chosen.payee || t("shared.noPayee") }));
      await load();
    });
    return form;
  }

  function settleUp(view) {
    const first = view.settle_up[0];
    const from = h("select", {}, memberOptions(first?.from_user_id));
    const to = h("select", {}, memberOptions(first?.to_user_id));
    const currency = first?.currency ?? view.balances[0]?.currency ?? "EUR";
    const amount = h("input", { type: "text", inputmode: "decimal", required: true,
      value: first ? (first.amount_minor / 10 ** minorDigits(currency)).toFixed(minorDigits(currency)) : "" });
    const on = h("input", { type: "date", required: true, value: today() });
    const note = h("input", { type: "text", maxlength: 200 });
    const form = h("form", { class: "stack", "aria-label": t("shared.settleTitle") },
      field(t("shared.from"), from), field(t("shared.to"), to),
      field(t("shared.amountIn", { currency }), amount), field(t("shared.on"), on), field(t("shared.note"), note),
      h("button", { type: "submit", class: "primary" }, t("shared.record")));
    onSubmit(form, status, async () => {
      const parsed = parseAmount(amount.value, minorDigits(currency));
      if (!parsed.ok) throw new Error(parsed.error);
      await api("/ledger/settlements", { method: "POST", body: { from_user_id: from.value, to_user_id: to.value,
        amount_minor: parsed.minor, currency, booked_on: on.value, note: note.value.trim() } });
      status.ok(t("shared.settled"));
      await load();
    });
    return form;
  }

  await attempt(status, load);
}
