// #/rules — the household's rules in the order they run (move up or down, apply to existing transactions,
// delete), and a form for a new one with a preview of what it would change before saving anything.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { fillSelect } from "../panels/panel.js";
import { categoryChoices, ledgerNav, loadBook } from "./ledger.js";

const FIELDS = [["payee", "Payee"], ["description", "Description"], ["amount", "Amount"], ["account", "Account"],
  ["date", "Date"], ["kind", "Kind"]];
const TEXT_OPS = [["contains", "contains"], ["equals", "is"], ["regex", "matches (regular expression)"]];

function describeCondition(c, book) {
  if (c.field === "payee" || c.field === "description") {
    return `${c.field} ${TEXT_OPS.find(([v]) => v === c.op)?.[1] ?? c.op} “${c.value}”`;
  }
  if (c.field === "amount") return `amount ${c.min_minor ?? "…"}–${c.max_minor ?? "…"} (minor units)`;
  if (c.field === "account") return `account ${book.account.get(c.account_id)?.name ?? "?"}`;
  if (c.field === "date") return `date ${c.from_date ?? "…"} to ${c.to_date ?? "…"}`;
  return `${c.field} is ${c.kind}`;
}

function describeActions(a, book) {
  const parts = [];
  if (a.category_id) parts.push(`category ${book.category.get(a.category_id)?.name ?? "?"}`);
  if (a.payee) parts.push(`payee “${a.payee}”`);
  if (a.note !== null && a.note !== undefined) parts.push(`note “${a.note}”`);
  if (a.tags?.length) parts.push(`tags ${a.tags.join(", ")}`);
  return `set ${parts.join(", ")}`;
}

export async function renderRules(container) {
  const status = statusLine();
  const list = h("ol", { class: "rows" });
  container.append(ledgerNav("/rules"), h("h1", { text: "Rules" }), status.element,
    h("section", { class: "card stack", "aria-labelledby": "rules-title" },
      h("h2", { id: "rules-title", text: "Your rules, in the order they run" }),
      h("p", { class: "hint", text: "Each rule sees what the rules above it did. They fill in new entries and "
        + "imports; “Apply” changes existing transactions too (each change can be undone on the transaction)." }),
      list));
  const book = await loadBook();
  let rules = [];

  async function run(request, message) {
    status.clear();
    try {
      status.ok(await request() ?? message);
    } catch (error) {
      status.error(error.message);
    }
    await load().catch((error) => status.error(error.message));
  }

  function move(index, by) {
    const ids = rules.map((r) => r.id);
    const [id] = ids.splice(index, 1);
    ids.splice(index + by, 0, id);
    return run(() => api("/ledger/rules/order", { method: "PUT", body: { ids } }), "Moved.");
  }

  async function load() {
    ({ items: rules } = await api("/ledger/rules"));
    replace(list, rules.length ? rules.map((rule, index) => h("li", { class: "stack" },
      h("strong", { text: `${rule.name}${rule.enabled ? "" : " (off)"}` }),
      h("span", { text: `When ${rule.match === "all" ? "all" : "any"} of: ${rule.conditions
        .map((c) => describeCondition(c, book)).join("; ")} → ${describeActions(rule.actions, book)}` }),
      h("div", { class: "row" },
        h("button", { type: "button", class: "small", disabled: index === 0, onclick: () => move(index, -1) },
          `Move ${rule.name} up`),
        h("button", { type: "button", class: "small", disabled: index === rules.length - 1,
          onclick: () => move(index, 1) }, `Move ${rule.name} down`),
        h("button", { type: "button", class: "small", onclick: () => {
          if (window.confirm(`Apply ${rule.name} to every existing transaction it matches?`)) {
            run(async () => `Changed ${(await api(`/ledger/rules/${rule.id}/apply`, { method: "POST" })).changed} `
              + "transactions.");
          }
        } }, `Apply ${rule.name}`),
        h("button", { type: "button", class: "small", onclick: () => {
          if (window.confirm(`Delete ${rule.name}?`)) {
            run(() => api(`/ledger/rules/${rule.id}`, { method: "DELETE" }), `Deleted ${rule.name}.`);
          }
        } }, `Delete ${rule.name}`)))) : h("li", { class: "empty", text: "No rules yet." }));
  }

  // --- a new rule ----------------------------------------------------------------------------------------
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const match = h("select", {});
  fillSelect(match, [{ value: "all", label: "all of" }, { value: "any", label: "any of" }]);
  const conditionRows = h("div", { class: "stack" });
  const category = h("select", {});
  fillSelect(category, categoryChoices(book, null), "Leave the category");
  const setPayee = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
  const setNote = h("input", { type: "text", maxlength: 1000, autocomplete: "off" });
  const tags = h("input", { type: "text", autocomplete: "off", placeholder: "trip, work" });
  const formStatus = statusLine();
  const preview = h("div", { class: "stack", "aria-live": "polite" });

  function conditionRow() {
    const which = h("select", { "aria-label": "Condition on" });
    fillSelect(which, FIELDS.map(([value, label]) => ({ value, label })));
    const inputs = h("span", { class: "row" });
    const row = h("div", { class: "row condition" }, which, inputs,
      h("button", { type: "button", class: "small", onclick: () => row.remove() }, "Remove condition"));
    const draw = () => {
      const f = which.value;
      if (f === "payee" || f === "description") {
        const op = h("select", { "aria-label": "How" });
        fillSelect(op, TEXT_OPS.map(([value, label]) => ({ value, label })));
        replace(inputs, op, h("input", { type: "text", maxlength: 200, "aria-label": "Text", required: true }));
      } else if (f === "amount") {
        replace(inputs, h("input", { type: "text", inputmode: "decimal", "aria-label": "At least" }),
          h("input", { type: "text", inputmode: "decimal", "aria-label": "At most" }));
      } else if (f === "account") {
        const account = h("select", { "aria-label": "Account" });
        fillSelect(account, book.accounts.map((a) => ({ value: a.id, label: a.name })));
        replace(inputs, account);
      } else if (f === "date") {
        replace(inputs, h("input", { type: "date", "aria-label": "From" }), h("input", { type: "date", "aria-label": "To" }));
      } else {
        const kind = h("select", { "aria-label": "Kind" });
        fillSelect(kind, [{ value: "expense", label: "expense" }, { value: "income", label: "income" }]);
        replace(inputs, kind);
      }
    };
    which.addEventListener("change", draw);
    draw();
    row.read = () => {
      const f = which.value;
      const controls = [...inputs.querySelectorAll("input, select")];
      if (f === "payee" || f === "description") return { field: f, op: controls[0].value, value: controls[1].value };
      if (f === "amount") {
        // Amounts are typed in the household's usual currency format; the rule compares minor units.
        const digits = minorDigits(book.accounts[0]?.currency ?? "EUR");
        const read = (c) => { if (!c.value.trim()) return null; const p = parseAmount(c.value, digits, { allowZero: true });
          if (!p.ok) throw new Error(p.error); return p.minor; };
        return { field: f, min_minor: read(controls[0]), max_minor: read(controls[1]) };
      }
      if (f === "account") return { field: f, account_id: controls[0].value };
      if (f === "date") return { field: f, from_date: controls[0].value || null, to_date: controls[1].value || null };
      return { field: f, kind: controls[0].value };
    };
    return row;
  }
  conditionRows.append(conditionRow());

  function spec() {
    const actions = { category_id: category.value || null, payee: setPayee.value.trim() || null,
      note: setNote.value.trim() || null,
      tags: tags.value.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean) };
    return { name: name.value.trim() || "Preview", match: match.value,
      conditions: [...conditionRows.children].map((row) => row.read()), actions };
  }

  const previewButton = h("button", { type: "button" }, "Preview");
  previewButton.addEventListener("click", async () => {
    formStatus.clear();
    try {
      const result = await api("/ledger/rules/preview", { method: "POST", body: spec() });
      replace(preview, h("p", { text: `Of the ${result.scanned} newest transactions, ${result.matched} match and `
        + `${result.changed} would change.` }),
      h("ul", { class: "rows" }, result.items.map((item) => h("li", { class: "row" },
        h("span", { text: formatDate(item.booked_on) }), h("span", { text: item.payee || "—" }),
        h("span", { text: formatMoney(item.amount_minor, item.currency) }),
        h("span", { class: "muted", text: Object.entries(item.changes).map(([k, [from, to]]) =>
          `${k}: ${k === "category_id" ? book.category.get(from)?.name ?? "none" : JSON.stringify(from)} → `
          + `${k === "category_id" ? book.category.get(to)?.name ?? "none" : JSON.stringify(to)}`).join("; ") })))));
    } catch (error) {
      formStatus.error(error.message);
    }
  });

  const form = h("form", { class: "stack", "aria-label": "New rule" }, h("h2", { text: "New rule" }),
    h("div", { class: "row" }, field("Name", name), field("When", match)), conditionRows,
    h("button", { type: "button", class: "small", onclick: () => conditionRows.append(conditionRow()) }, "Add condition"),
    h("div", { class: "row" }, field("Set category", category), field("Set payee", setPayee),
      field("Set note", setNote), field("Add tags", tags, "Separated by commas")),
    h("div", { class: "row" }, previewButton, h("button", { type: "submit", class: "primary" }, "Save rule")),
    formStatus.element, preview);
  container.append(h("section", { class: "card" }, form));
  onSubmit(form, formStatus, async () => {
    const made = await api("/ledger/rules", { method: "POST", body: spec() });
    formStatus.ok(`Saved ${made.name}; it runs after the others.`);
    await load();
  });
  await load().catch((error) => status.error(error.message));
  return undefined;
}
