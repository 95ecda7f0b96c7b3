import { api } from "../api.js";
import { field, onSubmit, h, replace, statusLine } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { parseAmount } from "../money.js";
import { load, panel } from "./panel.js";
import { budgetRow } from "../widgets/budgetbar.js";
import { categoryOptions, currencyInput, fillSelect, noCategoriesHint, readCurrency } from "../widgets/inputs.js";

export function budgetsPanel(ctx) {
  const month = thisMonth();
  const { element, body, status } = panel(t("budgetsPanel.title", { month: formatMonth(month) }), { className: "budgets" });
  const list = h("ul", { class: "rows" });

  const category = h("select", { name: "category", required: true });
  const amount = h("input", { type: "text", name: "amount", inputmode: "decimal", required: true,
    autocomplete: "off", placeholder: "300.00" });
  const currency = currencyInput(ctx.me.base_currency);
  const formStatus = statusLine();
  const noCategories = noCategoriesHint();
  const form = h("form", { class: "stack", "aria-label": t("budgetsPanel.formTitle") },
    h("h3", { text: t("budgetsPanel.formTitle") }),
    field(t("budgetsPanel.category"), category), noCategories,
    h("div", { class: "row" }, field(t("budgetsPanel.amount"), amount), field(t("budgetsPanel.currency"), currency)),
    h("button", { type: "submit" }, t("budgetsPanel.submit")),
    formStatus.element,
  );

  onSubmit(form, formStatus, async () => {
    const { code, digits } = readCurrency(currency, formStatus) ?? {};
    if (code === undefined) return;
    const parsed = parseAmount(amount.value, digits);
    if (!parsed.ok) {
      formStatus.error(t("budgetsPanel.amountError", { error: parsed.error }));
      amount.focus();
      return;
    }
    await api("/budget/budgets", { method: "POST", body: {
      category_id: category.value, amount_minor: parsed.minor, currency: code,
    } });
    formStatus.ok(t("budgetsPanel.saved"));
    amount.value = "";
    await ctx.changed(["budgets"]);
  });

  replace(body, list, h("p", {}, h("a", { href: "#/budgets", text: t("budgetsPanel.allBudgets") }),
    " · ", h("a", { href: "#/goals", text: t("budgetsPanel.goals") })), form);

  function sync() {
    const options = categoryOptions(ctx.categories, "expense");
    fillSelect(category, options);
    noCategories.hidden = options.length > 0;
  }

  function show(items) {
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, t("budgetsPanel.empty")));
      return;
    }
    replace(list, items.map((b) => budgetRow(b)));
  }

  return {
    element,
    sync,
    async load() {
      await load(status, async () => {
        const { items } = await api(`/budget/budgets?month=${month}`);
        show(items);
      });
    },
  };
}
