// #/accounts — every account with its balance now or at the end of any day, the household's net worth per
// currency (not converted between currencies yet), archive and reopen, reconcile with a bank statement
// (screens/reconcile.js), and a transfer between two accounts.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { t } from "../i18n.js";
import { minorDigits, parseAmount } from "../money.js";
import { amountNode } from "../widgets/amount.js";
import { accountKindLabel, fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

export async function renderAccounts(container) {
  const status = statusLine();
  const asOf = h("input", { type: "date", name: "as_of", value: today() });
  const worth = h("div", { class: "totals", "aria-live": "polite" });
  const list = h("ul", { class: "rows" });
  const dateForm = h("form", { class: "row", "aria-label": t("accounts.asOfLabel") },
    field(t("accounts.asOf"), asOf), h("button", { type: "submit" }, t("accounts.show")));
  container.append(ledgerNav("/accounts"), h("h1", { text: t("accounts.title") }), status.element,
    h("section", { class: "card" }, dateForm, h("h2", { text: t("accounts.netWorth") }), worth,
      h("h2", { text: t("accounts.title") }), list));
  let accounts = [];

  async function load() {
    const day = asOf.value || today();
    const [{ items }, net] = await Promise.all([api("/ledger/accounts?include_archived=true"),
      api(`/ledger/net-worth?as_of=${encodeURIComponent(day)}`)]);
    accounts = items;
    const balances = await Promise.all(items.map((a) => api(
      `/ledger/accounts/${a.id}/balance?as_of=${encodeURIComponent(day)}`)));
    const converted = net.converted && net.totals.length > 1
      ? h("p", {}, h("strong", { text: t("accounts.allIn", { currency: net.converted.currency }) }),
        amountNode(net.converted.amount_minor, net.converted.currency),
        net.converted.missing_rates.length
          ? t("accounts.withoutRates", { currencies: net.converted.missing_rates.join(", ") }) : " (",
        h("a", { href: "#/rates" }, t("accounts.ratesLink")), ")") : null;
    replace(worth, net.totals.length
      ? [...net.totals.map((total) => h("p", {}, `${total.currency}: `,
        amountNode(total.amount_minor, total.currency))), converted]
      : h("p", { class: "empty", text: t("accounts.empty") }));
    replace(list, items.map((a, n) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("a", { href: `#/transactions?account=${a.id}` }, h("strong", { text: a.name })),
        h("small", { class: "muted block", text: [accountKindLabel(a.kind), a.currency,
          a.archived ? t("accounts.archived") : null,
          day === today() ? null : t("accounts.onDay", { day: formatDate(day) })]
          .filter(Boolean).join(" · ") })),
      amountNode(balances[n].balance_minor, a.currency),
      h("a", { href: `#/reconcile?account=${a.id}`, class: "small",
        "aria-label": t("accounts.reconcileNamed", { name: a.name }) }, t("accounts.reconcile")),
      h("button", { type: "button", class: "small", onclick: () => change(a),
        "aria-label": t(a.archived ? "accounts.reopenNamed" : "accounts.archiveNamed", { name: a.name }) },
      a.archived ? t("accounts.reopen") : t("accounts.archive")))));
    const open = items.filter((a) => !a.archived).map((a) => ({ value: a.id, label: `${a.name} (${a.currency})` }));
    fillSelect(source, open);
    fillSelect(target, open);
    showArrived();
  }

  async function change(account) {
    status.clear();
    try {
      await api(`/ledger/accounts/${account.id}/${account.archived ? "reopen" : "archive"}`,
        { method: "POST", body: { expected_version: account.version } });
      status.ok(t(account.archived ? "accounts.reopened" : "accounts.archivedDone", { name: account.name }));
    } catch (error) {
      status.error(error.message);
    }
    await load().catch((error) => status.error(error.message));
  }

  const source = h("select", { required: true });
  const target = h("select", { required: true });
  const amount = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const day = h("input", { type: "date", required: true, value: today() });
  const note = h("input", { type: "text", maxlength: 1000, autocomplete: "off" });
  // Between currencies the transfer keeps both amounts: what left, and what arrived.
  const arrived = h("input", { type: "text", inputmode: "decimal", autocomplete: "off" });
  const arrivedField = field(t("accounts.arrived"), arrived, t("accounts.arrivedHint"));
  const currencyOf = (select) => accounts.find((a) => a.id === select.value)?.currency;
  const showArrived = () => {
    arrivedField.hidden = !source.value || !target.value || currencyOf(source) === currencyOf(target);
  };
  source.addEventListener("change", showArrived);
  target.addEventListener("change", showArrived);
  const transferStatus = statusLine();
  const transfer = h("form", { class: "stack", "aria-label": t("accounts.transferLabel") },
    h("h2", { text: t("accounts.transfer") }),
    h("div", { class: "row" }, field(t("accounts.from"), source), field(t("accounts.to"), target)),
    h("div", { class: "row" }, field(t("accounts.amount"), amount), arrivedField, field(t("accounts.day"), day)),
    field(t("accounts.note"), note),
    h("button", { type: "submit", class: "primary" }, t("accounts.transferButton")), transferStatus.element);
  container.append(h("section", { class: "card" }, transfer));
  showArrived();

  onSubmit(transfer, transferStatus, async () => {
    const from = accounts.find((a) => a.id === source.value);
    const parsed = parseAmount(amount.value, minorDigits(from?.currency ?? "EUR"));
    if (!parsed.ok) {
      transferStatus.error(t("accounts.amountError", { error: parsed.error }));
      amount.focus();
      return;
    }
    let counter = null;
    if (!arrivedField.hidden) {
      const got = parseAmount(arrived.value, minorDigits(currencyOf(target) ?? "EUR"));
      if (!got.ok) {
        transferStatus.error(t("accounts.arrivedError", { error: got.error }));
        arrived.focus();
        return;
      }
      counter = got.minor;
    }
    await api("/ledger/transfers", { method: "POST", body: { from_account_id: source.value,
      to_account_id: target.value, amount_minor: parsed.minor, booked_on: day.value, note: note.value.trim(),
      counter_amount_minor: counter } });
    transferStatus.ok(t("accounts.transferred"));
    amount.value = "";
    arrived.value = "";
    note.value = "";
    await load();
  });
  onSubmit(dateForm, status, load);
  await load().catch((error) => status.error(error.message));
  return undefined;
}
