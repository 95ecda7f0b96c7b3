// #/rules — the household's rules in the order they run (move up or down, apply to existing transactions,
// delete), and a form for a new one with a preview of what it would change before saving anything.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { categoryChoices, loadBook } from "../widgets/book.js";
import { fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

const FIELDS = [["payee", "rules.fields.payee"], ["description", "rules.fields.description"],
  ["amount", "rules.fields.amount"], ["account", "rules.fields.account"], ["date", "rules.fields.date"],
  ["kind", "rules.fields.kind"]];
const TEXT_OPS = [["contains", "rules.ops.contains"], ["equals", "rules.ops.equals"], ["regex", "rules.ops.regex"]];
const KINDS = { expense: "rules.kinds.expense", income: "rules.kinds.income" };

function describeCondition(c, book) {
  if (c.field === "payee" || c.field === "description") {
    const op = TEXT_OPS.find(([v]) => v === c.op)?.[1];
    return t("rules.describe.text", { field: t(c.field === "payee" ? "rules.describe.payee" : "rules.describe.description"),
      op: op ? t(op) : c.op, value: c.value });
  }
  if (c.field === "amount") return t("rules.describe.amount", { min: c.min_minor ?? "…", max: c.max_minor ?? "…" });
  if (c.field === "account") return t("rules.describe.account", { name: book.account.get(c.account_id)?.name ?? "?" });
  if (c.field === "date") return t("rules.describe.date", { from: c.from_date ?? "…", to: c.to_date ?? "…" });
  return t("rules.describe.kind", { kind: KINDS[c.kind] ? t(KINDS[c.kind]) : c.kind });
}

function describeActions(a, book) {
  const parts = [];
  if (a.category_id) parts.push(t("rules.describe.setCategory", { name: book.category.get(a.category_id)?.name ?? "?" }));
  if (a.payee) parts.push(t("rules.describe.setPayee", { payee: a.payee }));
  if (a.note !== null && a.note !== undefined) parts.push(t("rules.describe.setNote", { note: a.note }));
  if (a.tags?.length) parts.push(t("rules.describe.setTags", { tags: a.tags.join(", ") }));
  return t("rules.describe.set", { actions: parts.join(", ") });
}

export async function renderRules(container) {
  const status = statusLine();
  const list = h("ol", { class: "rows" });
  container.append(ledgerNav("/rules"), h("h1", { text: t("rules.title") }), status.element,
    h("section", { class: "card stack", "aria-labelledby": "rules-title" },
      h("h2", { id: "rules-title", text: t("rules.listTitle") }),
      h("p", { class: "hint", text: t("rules.hint") }),
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
    return run(() => api("/ledger/rules/order", { method: "PUT", body: { ids } }), t("rules.moved"));
  }

  async function load() {
    ({ items: rules } = await api("/ledger/rules"));
    replace(list, rules.length ? rules.map((rule, index) => h("li", { class: "stack" },
      h("strong", { text: rule.enabled ? rule.name : t("rules.off", { name: rule.name }) }),
      h("span", { text: t(rule.match === "all" ? "rules.whenAll" : "rules.whenAny", { conditions: rule.conditions
        .map((c) => describeCondition(c, book)).join("; "), actions: describeActions(rule.actions, book) }) }),
      h("div", { class: "row" },
        h("button", { type: "button", class: "small", disabled: index === 0, onclick: () => move(index, -1) },
          t("rules.moveUp", { name: rule.name })),
        h("button", { type: "button", class: "small", disabled: index === rules.length - 1,
          onclick: () => move(index, 1) }, t("rules.moveDown", { name: rule.name })),
        h("button", { type: "button", class: "small", onclick: () => {
          if (window.confirm(t("rules.applyConfirm", { name: rule.name }))) {
            run(async () => t("rules.changed",
              { count: (await api(`/ledger/rules/${rule.id}/apply`, { method: "POST" })).changed }));
          }
        } }, t("rules.apply", { name: rule.name })),
        h("button", { type: "button", class: "small", onclick: () => {
          if (window.confirm(t("rules.deleteConfirm", { name: rule.name }))) {
            run(() => api(`/ledger/rules/${rule.id}`, { method: "DELETE" }), t("rules.deleted", { name: rule.name }));
          }
        } }, t("rules.delete", { name: rule.name }))))) : h("li", { class: "empty", text: t("rules.empty") }));
  }

  // --- a new rule ----------------------------------------------------------------------------------------
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const match = h("select", {});
  fillSelect(match, [{ value: "all", label: t("rules.allOf") }, { value: "any", label: t("rules.anyOf") }]);
  const conditionRows = h("div", { class: "stack" });
  const category = h("select", {});
  fillSelect(category, categoryChoices(book, null), t("rules.leaveCategory"));
  const setPayee = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
  const setNote = h("input", { type: "text", maxlength: 1000, autocomplete: "off" });
  const tags = h("input", { type: "text", autocomplete: "off", placeholder: t("rules.tagsPlaceholder") });
  const formStatus = statusLine();
  const preview = h("div", { class: "stack", "aria-live": "polite" });

  function conditionRow() {
    const which = h("select", { "aria-label": t("rules.conditionOn") });
    fillSelect(which, FIELDS.map(([value, key]) => ({ value, label: t(key) })));
    const inputs = h("span", { class: "row" });
    const row = h("div", { class: "row condition" }, which, inputs,
      h("button", { type: "button", class: "small", onclick: () => row.remove() }, t("rules.removeCondition")));
    const draw = () => {
      const f = which.value;
      if (f === "payee" || f === "description") {
        const op = h("select", { "aria-label": t("rules.how") });
        fillSelect(op, TEXT_OPS.map(([value, key]) => ({ value, label: t(key) })));
        replace(inputs, op, h("input", { type: "text", maxlength: 200, "aria-label": t("rules.text"), required: true }));
      } else if (f === "amount") {
        replace(inputs, h("input", { type: "text", inputmode: "decimal", "aria-label": t("rules.atLeast") }),
          h("input", { type: "text", inputmode: "decimal", "aria-label": t("rules.atMost") }));
      } else if (f === "account") {
        const account = h("select", { "aria-label": t("rules.account") });
        fillSelect(account, book.accounts.map((a) => ({ value: a.id, label: a.name })));
        replace(inputs, account);
      } else if (f === "date") {
        replace(inputs, h("input", { type: "date", "aria-label": t("rules.from") }),
          h("input", { type: "date", "aria-label": t("rules.to") }));
      } else {
        const kind = h("select", { "aria-label": t("rules.kind") });
        fillSelect(kind, Object.entries(KINDS).map(([value, key]) => ({ value, label: t(key) })));
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
      tags: tags.value.split(",").map((tag) => tag.trim().toLowerCase()).filter(Boolean) };
    return { name: name.value.trim() || "Preview", match: match.value,
      conditions: [...conditionRows.children].map((row) => row.read()), actions };
  }

  const previewButton = h("button", { type: "button" }, t("rules.preview"));
  previewButton.addEventListener("click", async () => {
    formStatus.clear();
    try {
      const result = await api("/ledger/rules/preview", { method: "POST", body: spec() });
      replace(preview, h("p", { text: t("rules.previewResult",
        { scanned: result.scanned, matched: result.matched, changed: result.changed }) }),
      h("ul", { class: "rows" }, result.items.map((item) => h("li", { class: "row" },
        h("span", { text: formatDate(item.booked_on) }), h("span", { text: item.payee || "—" }),
        h("span", { text: formatMoney(item.amount_minor, item.currency) }),
        h("span", { class: "muted", text: Object.entries(item.changes).map(([k, [from, to]]) =>
          `${k}: ${k === "category_id" ? book.category.get(from)?.name ?? t("rules.none") : JSON.stringify(from)} → `
          + `${k === "category_id" ? book.category.get(to)?.name ?? t("rules.none") : JSON.stringify(to)}`)
          .join("; ") })))));
    } catch (error) {
      formStatus.error(error.message);
    }
  });

  const form = h("form", { class: "stack", "aria-label": t("rules.new") }, h("h2", { text: t("rules.new") }),
    h("div", { class: "row" }, field(t("rules.name"), name), field(t("rules.when"), match)), conditionRows,
    h("button", { type: "button", class: "small", onclick: () => conditionRows.append(conditionRow()) },
      t("rules.addCondition")),
    h("div", { class: "row" }, field(t("rules.setCategory"), category), field(t("rules.setPayee"), setPayee),
      field(t("rules.setNote"), setNote), field(t("rules.addTags"), tags, t("rules.tagsHint"))),
    h("div", { class: "row" }, previewButton, h("button", { type: "submit", class: "primary" }, t("rules.save"))),
    formStatus.element, preview);
  container.append(h("section", { class: "card" }, form));
  onSubmit(form, formStatus, async () => {
    const made = await api("/ledger/rules", { method: "POST", body: spec() });
    formStatus.ok(t("rules.saved", { name: made.name }));
    await load();
  });
  await load().catch((error) => status.error(error.message));
  return undefined;
}
