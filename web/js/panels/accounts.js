import { api } from "../api.js";
import { field, onSubmit, h, replace, statusLine } from "../dom.js";
import { ACCOUNT_KINDS } from "../format.js";
import { formatMoney, parseAmount } from "../money.js";
import { currencyInput, fillSelect, load, panel, readCurrency } from "./panel.js";

export function accountsPanel(ctx) {
  const { element, body, status } = panel("Accounts", { className: "accounts" });
  const list = h("ul", { class: "rows" });

  const name = h("input", { type: "text", name: "name", required: true, maxlength: 100, autocomplete: "off" });
  const kind = h("select", { name: "kind", required: true });
  fillSelect(kind, Object.entries(ACCOUNT_KINDS).map(([value, label]) => ({ value, label })));
  const currency = currencyInput(ctx.me.base_currency);
  const opening = h("input", { type: "text", name: "opening", inputmode: "decimal", autocomplete: "off",
    placeholder: "0.00" });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": "Open an account" },
    h("h3", { text: "Open an account" }),
    h("div", { class: "row" }, field("Name", name), field("Kind", kind)),
    h("div", { class: "row" }, field("Currency", currency, "ISO code, e.g. EUR"),
      field("Opening balance", opening, "Optional")),
    h("button", { type: "submit" }, "Open account"),
    formStatus.element,
  );

  onSubmit(form, formStatus, async () => {
    const { code, digits } = readCurrency(currency, formStatus) ?? {};
    if (code === undefined) return;
    const balance = opening.value.trim() === ""
      ? { ok: true, minor: 0 }
      : parseAmount(opening.value, digits, { allowNegative: true, allowZero: true });
    if (!balance.ok) {
      formStatus.error(`Opening balance: ${balance.error}`);
      opening.focus();
      return;
    }
    const account = await api("/ledger/accounts", { method: "POST", body: {
      name: name.value.trim(), kind: kind.value, currency: code, opening_balance_minor: balance.minor,
    } });
    formStatus.ok(`Opened ${account.name}.`);
    name.value = "";
    opening.value = "";
    await ctx.changed(["accounts"]);
  });

  replace(body, list, form);

  function show(accounts) {
    if (accounts.length === 0) {
      replace(list, h("li", { class: "empty" }, "No accounts yet. Open one below."));
      return;
    }
    replace(list, accounts.map((account) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { text: account.name }),
        h("small", { class: "muted", text: ` ${ACCOUNT_KINDS[account.kind] ?? account.kind} · ${account.currency}` })),
      h("span", { class: `amount ${account.balance_minor < 0 ? "negative" : ""}`,
        text: formatMoney(account.balance_minor, account.currency) }),
    )));
  }

  return {
    element,
    async load() {
      await load(status, async () => {
        const { items } = await api("/ledger/accounts");
        ctx.accounts = items;
        show(items);
      });
    },
  };
}
