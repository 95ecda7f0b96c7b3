// #/reconcile?account=… — reconcile an account with the bank's statement: the statement's closing date and
// balance give the cleared balance and the difference; ticking a transaction off marks it cleared at once
// (so a reconciliation left half-way keeps its ticks), and "Finish" marks the cleared ones reconciled when
// the difference is zero. A difference nobody can find may be booked as an adjustment instead. An import
// preview that read the statement's closing balance links here with `date` and `balance` (minor units).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { params } from "../router.js";
import { amountNode } from "../widgets/amount.js";
import { ledgerNav } from "../widgets/ledgernav.js";

export async function renderReconcile(container) {
  const status = statusLine();
  const heading = h("h1", { text: t("reconcile.title") });
  container.append(ledgerNav("/accounts"), heading, h("p", { class: "muted", text: t("reconcile.intro") }),
    status.element);
  const given = params();
  const accountId = given.get("account") ?? "";
  let account;
  try {
    account = await api(`/ledger/accounts/${encodeURIComponent(accountId)}`);
  } catch (error) {
    status.error(error.message);
    return undefined;
  }
  heading.textContent = t("reconcile.titleNamed", { name: account.name });
  const digits = minorDigits(account.currency);

  const closing = h("input", { type: "date", name: "statement_date", required: true, value: today() });
  const balance = h("input", { type: "text", name: "statement_balance", inputmode: "decimal", required: true,
    autocomplete: "off" });
  const start = h("form", { class: "stack", "aria-label": t("reconcile.statement") },
    h("div", { class: "row" }, field(t("reconcile.closingDate"), closing),
      field(t("reconcile.closingBalance", { currency: account.currency }), balance, t("reconcile.balanceHint"))),
    h("button", { type: "submit", class: "primary" }, t("reconcile.start")));
  const summary = h("dl", { class: "totals", "aria-live": "polite" });
  const list = h("ul", { class: "rows" });
  const finish = h("button", { type: "button", class: "primary", disabled: true }, t("reconcile.finish"));
  const adjust = h("button", { type: "button", hidden: true });
  const result = statusLine();
  const work = h("section", { class: "card", "aria-label": t("reconcile.work"), hidden: true },
    summary, h("h2", { text: t("reconcile.toTick") }), list, h("div", { class: "row" }, finish, adjust),
    result.element);
  container.append(h("section", { class: "card" }, start), work);

  let statement = null; // { date, minor } once started
  const versions = new Map(); // transaction id → version, kept current as ticks change it

  function showSummary(look) {
    const line = (label, minor) => [h("dt", { text: label }), h("dd", {}, amountNode(minor, account.currency, true))];
    replace(summary, line(t("reconcile.statementBalance"), look.statement_balance_minor),
      line(t("reconcile.clearedBalance"), look.cleared_balance_minor),
      line(t("reconcile.difference"), look.difference_minor));
    const even = look.difference_minor === 0;
    finish.disabled = !even;
    adjust.hidden = even;
    adjust.textContent = t("reconcile.adjust", { amount: formatMoney(look.difference_minor, account.currency) });
  }

  async function look() {
    return api(`/ledger/accounts/${encodeURIComponent(accountId)}/reconciliation?statement_date=${
      encodeURIComponent(statement.date)}&statement_balance_minor=${statement.minor}`);
  }

  function itemRow(item) {
    const tx = item.transaction;
    versions.set(tx.id, tx.version);
    const name = tx.payee || tx.category_name || t("reconcile.noPayee");
    const tick = h("input", { type: "checkbox", checked: tx.status === "cleared" });
    tick.addEventListener("change", async () => {
      result.clear();
      tick.disabled = true;
      try {
        const changed = await api(`/ledger/transactions/${encodeURIComponent(tx.id)}`, { method: "PATCH",
          body: { status: tick.checked ? "cleared" : "uncleared", expected_version: versions.get(tx.id) } });
        versions.set(tx.id, changed.version);
        showSummary(await look());
      } catch (error) {
        tick.checked = !tick.checked;
        result.error(error.message);
      } finally {
        tick.disabled = false;
      }
    });
    return h("li", { class: "row-item" },
      h("label", { class: "grow" }, tick, " ", h("span", { text: `${formatDate(tx.booked_on)} · ${name}` })),
      amountNode(item.amount_minor, account.currency));
  }

  async function show() {
    const found = await look();
    work.hidden = false;
    showSummary(found);
    replace(list, found.items.length ? found.items.map(itemRow)
      : h("li", { class: "empty", text: t("reconcile.nothingOpen") }),
    found.more ? h("li", { class: "muted", text: t("reconcile.more") }) : null);
  }

  onSubmit(start, status, async () => {
    const parsed = parseAmount(balance.value, digits, { allowNegative: true, allowZero: true });
    if (!parsed.ok) {
      status.error(t("reconcile.balanceError", { error: parsed.error }));
      balance.focus();
      return;
    }
    statement = { date: closing.value, minor: parsed.minor };
    result.clear();
    await show();
  });

  async function complete(withAdjustment) {
    result.clear();
    finish.disabled = true;
    try {
      const done = await api(`/ledger/accounts/${encodeURIComponent(accountId)}/reconciliation`, {
        method: "POST", body: { statement_date: statement.date, statement_balance_minor: statement.minor,
          adjust: withAdjustment, adjustment_payee: t("reconcile.adjustmentPayee") } });
      await show();
      result.ok(t(done.adjustment ? "reconcile.doneAdjusted" : "reconcile.done",
        { count: done.reconciled, day: formatDate(statement.date) }));
    } catch (error) {
      result.error(error.message);
      await show().catch(() => undefined);
    }
  }

  finish.addEventListener("click", () => complete(false));
  const offered = Number(given.get("balance"));
  if (given.get("date") && given.get("balance") && Number.isSafeInteger(offered)) {
    closing.value = given.get("date");
    balance.value = toDecimalString(offered, digits);
    statement = { date: closing.value, minor: offered };
    await show().catch((error) => status.error(error.message));
  }
  adjust.addEventListener("click", () => {
    if (window.confirm(t("reconcile.adjustConfirm"))) complete(true);
  });
  return undefined;
}
