import { api } from "../api.js";
import { field, onSubmit, h, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { formatMoney, parseAmount } from "../money.js";
import { load, panel } from "./panel.js";
import { accountKindLabel, accountKindOptions, currencyInput, fillSelect, readCurrency } from "../widgets/inputs.js";

export function accountsPanel(ctx) {
  const { element, body, status } = panel(t("accountsPanel.title"), { className: "accounts" });
  const list = h("ul", { class: "rows" });

  const name = h("input", { type: "text", name: "name", required: true, maxlength: 100, autocomplete: "off" });
  const kind = h("select", { name: "kind", required: true });
  fillSelect(kind, accountKindOptions());
  const currency = currencyInput(ctx.me.base_currency);
  const opening = h("input", { type: "text", name: "opening", inputmode: "decimal", autocomplete: "off",
    placeholder: "0.00" });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("accountsPanel.openTitle") },
    h("h3", { text: t("accountsPanel.openTitle") }),
    h("div", { class: "row" }, field(t("accountsPanel.name"), name), field(t("accountsPanel.kind"), kind)),
    h("div", { class: "row" }, field(t("accountsPanel.currency"), currency, t("accountsPanel.currencyHint")),
      field(t("accountsPanel.openingBalance"), opening, t("accountsPanel.optional"))),
    h("button", { type: "submit" }, t("accountsPanel.open")),
    formStatus.element,
  );

  onSubmit(form, formStatus, async () => {
    const { code, digits } = readCurrency(currency, formStatus) ?? {};
    if (code === undefined) return;
    const balance = opening.value.trim() === ""
      ? { ok: true, minor: 0 }
      : parseAmount(opening.value, digits, { allowNegative: true, allowZero: true });
    if (!balance.ok) {
      formStatus.error(t("accountsPanel.openingError", { error: balance.error }));
      opening.focus();
      return;
    }
    const account = await api("/ledger/accounts", { method: "POST", body: {
      name: name.value.trim(), kind: kind.value, currency: code, opening_balance_minor: balance.minor,
    } });
    formStatus.ok(t("accountsPanel.opened", { name: account.name }));
    name.value = "";
    opening.value = "";
    await ctx.changed(["accounts"]);
  });

  replace(body, list, form);

  function show(accounts) {
    if (accounts.length === 0) {
      replace(list, h("li", { class: "empty" }, t("accountsPanel.empty")));
      return;
    }
    replace(list, accounts.map((account) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { text: account.name }),
        h("small", { class: "muted", text: ` ${accountKindLabel(account.kind)} · ${account.currency}` })),
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
