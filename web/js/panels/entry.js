import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine, uid } from "../dom.js";
import { today } from "../format.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { categoryOptions, fillSelect, panel } from "./panel.js";

/** The "add expense / income" form. */
export function entryPanel(ctx) {
  const { element, body } = panel("Add expense or income", { className: "entry" });

  const kindName = uid("kind");
  const expense = h("input", { type: "radio", name: kindName, value: "expense", checked: true });
  const income = h("input", { type: "radio", name: kindName, value: "income" });
  const kind = h("fieldset", { class: "segmented" },
    h("legend", { text: "Type" }),
    h("label", {}, expense, " Expense"),
    h("label", {}, income, " Income"),
  );
  const account = h("select", { name: "account", required: true });
  const amount = h("input", { type: "text", name: "amount", inputmode: "decimal", required: true,
    autocomplete: "off", placeholder: "12.50" });
  const category = h("select", { name: "category" });
  const payee = h("input", { type: "text", name: "payee", maxlength: 200, autocomplete: "off" });
  const bookedOn = h("input", { type: "date", name: "booked_on", required: true, value: today() });
  const status = statusLine();
  const submit = h("button", { type: "submit", class: "primary" }, "Add");

  const form = h("form", { class: "stack", "aria-label": "Add expense or income" },
    kind,
    h("div", { class: "row" }, field("Account", account), field("Amount", amount)),
    h("div", { class: "row" }, field("Category", category), field("Payee", payee, "Optional")),
    field("Date", bookedOn),
    submit,
    status.element,
  );

  const selectedKind = () => (income.checked ? "income" : "expense");

  function sync() {
    fillSelect(account, ctx.accounts.map((a) => ({ value: a.id, label: `${a.name} (${a.currency})` })));
    fillSelect(category, categoryOptions(ctx.categories, selectedKind()), "No category");
    submit.disabled = ctx.accounts.length === 0;
    submit.title = ctx.accounts.length === 0 ? "Open an account first" : "";
  }
  expense.addEventListener("change", sync);
  income.addEventListener("change", sync);

  onSubmit(form, status, async () => {
    const chosen = ctx.accounts.find((a) => a.id === account.value);
    if (!chosen) {
      status.error("Choose an account (open one first if there is none).");
      return;
    }
    const parsed = parseAmount(amount.value, minorDigits(chosen.currency));
    if (!parsed.ok) {
      status.error(`Amount: ${parsed.error}`);
      amount.focus();
      return;
    }
    const kindNow = selectedKind();
    await api("/ledger/transactions", { method: "POST", body: {
      account_id: chosen.id,
      kind: kindNow,
      amount_minor: parsed.minor,
      category_id: category.value || null,
      payee: payee.value.trim(),
      booked_on: bookedOn.value || today(),
    } });
    status.ok(`Added ${kindNow} of ${formatMoney(parsed.minor, chosen.currency)}.`);
    amount.value = "";
    payee.value = "";
    amount.focus();
    await ctx.changed(["accounts", "transactions", "budgets", "report"]);
  });

  replace(body, form);
  return { element, sync };
}
