import { api } from "../api.js";
import { busy, field, h, replace, statusLine } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { fillSelect, load, panel } from "./panel.js";

export function budgetsPanel(ctx) {
  const month = thisMonth();
  const { element, body, status } = panel(`Budgets · ${formatMonth(month)}`, { className: "budgets" });
  const list = h("ul", { class: "rows" });

  const category = h("select", { name: "category", required: true });
  const amount = h("input", { type: "text", name: "amount", inputmode: "decimal", required: true,
    autocomplete: "off", placeholder: "300.00" });
  const currency = h("input", { type: "text", name: "currency", required: true, maxlength: 3, minlength: 3,
    pattern: "[A-Za-z]{3}", autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
    value: ctx.me.base_currency ?? "" });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": "Set a monthly budget" },
    h("h3", { text: "Set a monthly budget" }),
    field("Category", category),
    h("div", { class: "row" }, field("Amount per month", amount), field("Currency", currency)),
    h("button", { type: "submit" }, "Set budget"),
    formStatus.element,
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    formStatus.clear();
    const code = currency.value.trim().toUpperCase();
    let digits;
    try {
      digits = minorDigits(code);
    } catch {
      formStatus.error(`${code || "That"} is not a currency code.`);
      return;
    }
    const parsed = parseAmount(amount.value, digits);
    if (!parsed.ok) {
      formStatus.error(`Amount: ${parsed.error}`);
      amount.focus();
      return;
    }
    busy(form, async () => {
      try {
        await api("/budget/budgets", { method: "POST", body: {
          category_id: category.value, amount_minor: parsed.minor, currency: code,
        } });
        formStatus.ok("Budget saved.");
        amount.value = "";
        await ctx.changed(["budgets"]);
      } catch (error) {
        formStatus.error(error.message);
      }
    });
  });

  replace(body, list, form);

  function sync() {
    fillSelect(category, ctx.categories.filter((c) => c.kind === "expense")
      .map((c) => ({ value: c.id, label: c.group ? `${c.group} › ${c.name}` : c.name })));
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
