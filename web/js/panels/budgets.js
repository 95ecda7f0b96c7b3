import { api } from "../api.js";
import { field, onSubmit, h, replace, statusLine } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { formatMoney, parseAmount } from "../money.js";
import { categoryOptions, currencyInput, fillSelect, load, panel, readCurrency } from "./panel.js";

export function budgetsPanel(ctx) {
  const month = thisMonth();
  const { element, body, status } = panel(`Budgets · ${formatMonth(month)}`, { className: "budgets" });
  const list = h("ul", { class: "rows" });

  const category = h("select", { name: "category", required: true });
  const amount = h("input", { type: "text", name: "amount", inputmode: "decimal", required: true,
    autocomplete: "off", placeholder: "300.00" });
  const currency = currencyInput(ctx.me.base_currency);
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": "Set a monthly budget" },
    h("h3", { text: "Set a monthly budget" }),
    field("Category", category),
    h("div", { class: "row" }, field("Amount per month", amount), field("Currency", currency)),
    h("button", { type: "submit" }, "Set budget"),
    formStatus.element,
  );

  onSubmit(form, formStatus, async () => {
    const { code, digits } = readCurrency(currency, formStatus) ?? {};
    if (code === undefined) return;
    const parsed = parseAmount(amount.value, digits);
    if (!parsed.ok) {
      formStatus.error(`Amount: ${parsed.error}`);
      amount.focus();
      return;
    }
    await api("/budget/budgets", { method: "POST", body: {
      category_id: category.value, amount_minor: parsed.minor, currency: code,
    } });
    formStatus.ok("Budget saved.");
    amount.value = "";
    await ctx.changed(["budgets"]);
  });

  replace(body, list, form);

  function sync() {
    fillSelect(category, categoryOptions(ctx.categories, "expense"));
  }

  function show(items) {
    if (items.length === 0) {
      replace(list, h("li", { class: "empty" }, "No budgets for this month yet."));
      return;
    }
    replace(list, items.map((b) => {
      const level = b.percent >= 100 ? "over" : b.percent >= 80 ? "warn" : "fine";
      const spent = formatMoney(b.spent_minor, b.currency);
      const limit = formatMoney(b.amount_minor, b.currency);
      const remaining = b.remaining_minor >= 0
        ? `${formatMoney(b.remaining_minor, b.currency)} left`
        : `${formatMoney(-b.remaining_minor, b.currency)} over`;
      return h("li", { class: `budget ${level}` },
        h("div", { class: "row-item" },
          h("strong", { class: "grow", text: b.category_name }),
          h("span", { class: "amount", text: `${spent} of ${limit}` })),
        h("progress", { max: 100, value: Math.max(0, Math.min(b.percent, 100)),
          "aria-label": `${b.category_name}: ${b.percent}% of the budget used` }),
        h("small", { class: "muted", text: `${b.percent}% used · ${remaining}` }));
    }));
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
