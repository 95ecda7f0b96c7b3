// #/transaction?id=… — one transaction: edit it (amount, day, payee, note, tags, state, one category or a
// split across several), delete it, undo its last change, and read its whole history (who, when, what).
// Every save names the version it started from; if someone saved in between, the server says 409 and the
// screen reloads what is there now.

import { ApiError, api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { param } from "../router.js";
import { categoryChoices, loadBook } from "../widgets/book.js";
import { fileRequest, saveBlob } from "../widgets/files.js";
import { fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

const STATES = [["uncleared", "transaction.states.uncleared"], ["cleared", "transaction.states.cleared"],
  ["reconciled", "transaction.states.reconciled"]];
// What the history calls a change and the fields it touched (the API's names → locale keys).
const CHANGES = { recorded: "transaction.changes.recorded", amended: "transaction.changes.amended",
  deleted: "transaction.changes.deleted", restored: "transaction.changes.restored" };
const FIELDS = { amount_minor: "transaction.fields.amount", booked_on: "transaction.fields.bookedOn",
  payee: "transaction.fields.payee", note: "transaction.fields.note", tags: "transaction.fields.tags",
  status: "transaction.fields.status", category_id: "transaction.fields.category", splits: "transaction.fields.splits",
  account_id: "transaction.fields.account", counter_account_id: "transaction.fields.counterAccount",
  counter_amount_minor: "transaction.fields.counterAmount" };

export async function renderTransaction(container) {
  const id = param("id") ?? "";
  const status = statusLine();
  const heading = h("h1", { text: t("transaction.title") });
  const editor = h("section", { class: "card", "aria-label": t("transaction.edit") });
  const historyList = h("ol", { class: "rows" });
  container.append(ledgerNav(null), heading, status.element, editor,
    h("section", { class: "card", "aria-labelledby": "history-title" },
      h("h2", { id: "history-title", text: t("transaction.history") }), historyList));
  const files = attachmentsCard(id);
  container.append(files.element);
  let book;
  let me;
  try {
    [book, me] = await Promise.all([loadBook(), api("/auth/me")]);
  } catch (error) {
    status.error(error.message);
    return;
  }

  async function reload() {
    const history = (await api(`/ledger/transactions/${encodeURIComponent(id)}/history`)).items;
    const last = history[history.length - 1];
    showHistory(history);
    if (last.state === null) {
      heading.textContent = t("transaction.deletedTitle");
      replace(editor, h("p", { text: t("transaction.deletedText") }),
        undoButton(last.version));
      files.element.hidden = true;
      return;
    }
    const tx = await api(`/ledger/transactions/${encodeURIComponent(id)}`);
    heading.textContent = tx.payee || tx.category_name || t("transaction.title");
    replace(editor, editForm(tx));
    files.element.hidden = false;
    await files.load().catch((error) => files.status.error(error.message));
  }

  function undoButton(version) {
    return h("button", { type: "button", onclick: () => act(() => api(
      `/ledger/transactions/${encodeURIComponent(id)}/undo`, { method: "POST", body: { expected_version: version } }),
    t("transaction.undone")) }, t("transaction.undo"));
  }

  async function act(request, message) {
    status.clear();
    try {
      await request();
      status.ok(message);
    } catch (error) {
      status.error(error instanceof ApiError && error.status === 409
        ? t("transaction.conflict")
        : error.message);
    }
    await reload().catch((error) => status.error(error.message));
  }

  function editForm(tx) {
    const digits = minorDigits(tx.currency);
    const money = (minor) => toDecimalString(minor, digits);
    const amount = h("input", { type: "text", inputmode: "decimal", required: true, value: money(tx.amount_minor) });
    const day = h("input", { type: "date", required: true, value: tx.booked_on });
    const payee = h("input", { type: "text", maxlength: 200, value: tx.payee, autocomplete: "off" });
    const note = h("input", { type: "text", maxlength: 1000, value: tx.note, autocomplete: "off" });
    const tags = h("input", { type: "text", value: tx.tags.join(", "), autocomplete: "off" });
    const state = h("select", {});
    fillSelect(state, STATES.map(([value, key]) => ({ value, label: t(key) })));
    state.value = tx.status;
    const choices = categoryChoices(book, tx.kind);
    const current = book.category.get(tx.category_id);
    if (current && current.archived) {
      choices.unshift({ value: current.id, label: t("transaction.archivedCategory", { name: current.name }) });
    }
    const category = h("select", {});
    fillSelect(category, choices, t("transaction.noCategory"));
    category.value = tx.category_id ?? "";
    const parts = h("div", { class: "stack" });
    const remaining = h("p", { class: "hint", "aria-live": "polite" });
    let partCount = 0;

    function addPart(categoryId = "", minor = null) {
      partCount += 1;
      const select = h("select", { required: true });
      fillSelect(select, choices, t("transaction.chooseCategory"));
      select.value = categoryId;
      const input = h("input", { type: "text", inputmode: "decimal", required: true,
        value: minor === null ? "" : money(minor), oninput: sumUp });
      const line = h("div", { class: "row split-part" },
        field(t("transaction.partCategory", { n: partCount }), select),
        field(t("transaction.partAmount", { n: partCount }), input),
        h("button", { type: "button", class: "small", onclick: () => { line.remove(); sumUp(); } },
          t("transaction.remove")));
      parts.append(line);
      sumUp();
    }

    function readParts() {
      return [...parts.querySelectorAll(".split-part")].map((line) => {
        const [select, input] = line.querySelectorAll("select, input");
        return { category_id: select.value, amount: parseAmount(input.value, digits) };
      });
    }

    function sumUp() {
      const total = parseAmount(amount.value, digits);
      const read = readParts();
      if (!read.length || !total.ok) {
        remaining.textContent = "";
        return;
      }
      const used = read.reduce((sum, p) => sum + (p.amount.ok ? p.amount.minor : 0), 0);
      remaining.textContent = used === total.minor ? t("transaction.addsUp")
        : t("transaction.leftToSplit", { money: formatMoney(total.minor - used, tx.currency) });
    }
    amount.addEventListener("input", sumUp);
    for (const s of tx.splits) addPart(s.category_id, s.amount_minor);

    const formStatus = statusLine();
    const isTransfer = tx.kind === "transfer";
    const accountName = (accountId) => String(book.account.get(accountId)?.name);
    const form = h("form", { class: "stack", "aria-label": t("transaction.editLabel") },
      h("p", { class: "muted", text: isTransfer
        ? t("transaction.transferFromTo", { from: accountName(tx.account_id), to: accountName(tx.counter_account_id) })
        : t(tx.kind === "income" ? "transaction.incomeInto" : "transaction.expenseFrom",
          { account: accountName(tx.account_id) }) }),
      h("div", { class: "row" }, field(t("transaction.amount", { currency: tx.currency }), amount),
        field(t("transaction.day"), day)),
      h("div", { class: "row" }, field(t("transaction.payee"), payee), field(t("transaction.state"), state)),
      field(t("transaction.note"), note), field(t("transaction.tags"), tags, t("transaction.tagsHint")),
      isTransfer ? null : h("fieldset", { class: "stack" }, h("legend", { text: t("transaction.categoryOrSplit") }),
        field(t("transaction.category"), category, t("transaction.categoryHint")), parts, remaining,
        h("button", { type: "button", class: "small", onclick: () => addPart() }, t("transaction.addPart"))),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, t("transaction.save")),
        undoButton(tx.version),
        h("button", { type: "button", onclick: () => {
          if (!window.confirm(t("transaction.deleteConfirm"))) return;
          act(() => api(`/ledger/transactions/${encodeURIComponent(id)}?expected_version=${tx.version}`,
            { method: "DELETE" }), t("transaction.deleted"));
        } }, t("transaction.delete"))),
      formStatus.element);

    onSubmit(form, formStatus, async () => {
      const total = parseAmount(amount.value, digits);
      if (!total.ok) {
        formStatus.error(t("transaction.amountError", { error: total.error }));
        amount.focus();
        return;
      }
      const body = { expected_version: tx.version, amount_minor: total.minor, booked_on: day.value,
        payee: payee.value.trim(), note: note.value.trim(), status: state.value,
        tags: tags.value.split(",").map((tag) => tag.trim().toLowerCase()).filter(Boolean) };
      if (!isTransfer) {
        const split = readParts();
        const bad = split.find((p) => !p.amount.ok || !p.category_id);
        if (bad) {
          formStatus.error(bad.category_id ? t("transaction.partError", { error: bad.amount.error })
            : t("transaction.choosePartCategory"));
          return;
        }
        if (split.length) {
          body.splits = split.map((p) => ({ category_id: p.category_id, amount_minor: p.amount.minor }));
        } else {
          body.category_id = category.value || null;
          if (tx.splits.length) body.splits = [];
        }
      }
      // A reconciled transaction was agreed with a bank statement: its money and date change only when meant.
      if (tx.status === "reconciled" && (total.minor !== tx.amount_minor || day.value !== tx.booked_on)) {
        if (!window.confirm(t("transaction.reconciledConfirm"))) return;
        body.confirm_reconciled = true;
      }
      await act(() => api(`/ledger/transactions/${encodeURIComponent(id)}`, { method: "PATCH", body }), t("transaction.saved"));
    });
    return form;
  }

  function describe(name, value, currency) {
    if (value === null || value === undefined || value === "") return "—";
    if (name === "amount_minor") return formatMoney(value, currency);
    if (name === "account_id" || name === "counter_account_id") return book.account.get(value)?.name ?? value;
    if (name === "category_id") return book.category.get(value)?.name ?? value;
    if (name === "booked_on") return formatDate(value);
    if (name === "splits") return value.map((s) => `${book.category.get(s.category_id)?.name ?? "?"} `
      + formatMoney(s.amount_minor, currency)).join(", ") || t("transaction.none");
    if (Array.isArray(value)) return value.join(", ") || t("transaction.none");
    return String(value);
  }

  function who(actor) {
    if (actor === me.user_id) return t("transaction.you");
    return actor === "system" ? "Tally" : t("transaction.anotherMember");
  }

  function showHistory(history) {
    let currency = "EUR";
    replace(historyList, history.map((entry) => {
      currency = entry.state?.currency ?? currency;
      const change = CHANGES[entry.change] ? t(CHANGES[entry.change]) : entry.change;
      const label = entry.undoes ? t("transaction.undoOf", { change, version: entry.undoes }) : change;
      const fieldName = (name) => (FIELDS[name] ? t(FIELDS[name])
        : name.replace(/_minor$|_id$/, "").replace("_", " "));
      const changes = entry.change === "recorded" || entry.change === "restored" || entry.change === "deleted"
        ? [] : Object.entries(entry.changes).map(([name, [old, now]]) => h("li", {},
          `${fieldName(name)}: ${describe(name, old, currency)} → `
          + describe(name, now, currency)));
      return h("li", { class: "stack" },
        h("span", {}, h("strong", { text: `${entry.version}. ${label}` }),
          h("small", { class: "muted", text: ` ${t("transaction.when", { time: formatDateTime(entry.occurred_at),
            who: who(entry.actor) })}` })),
        changes.length ? h("ul", {}, changes) : null);
    }));
  }

  await reload().catch((error) => status.error(error.message));
  return undefined;
}

// --- attachments: receipts and documents (JPEG, PNG, WebP, PDF) -----------------------------------------
// Files are not JSON: they go through widgets/files.js.

function attachmentsCard(transactionId) {
  const status = statusLine();
  const list = h("ul", { class: "rows" });
  const file = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,application/pdf", required: true });
  const form = h("form", { class: "row", "aria-label": t("transaction.attachLabel") },
    field(t("transaction.file"), file, t("transaction.fileHint")),
    h("button", { type: "submit" }, t("transaction.attach")));
  const element = h("section", { class: "card stack", "aria-labelledby": "files-title" },
    h("h2", { id: "files-title", text: t("transaction.attachments") }), list, form, status.element);

  async function open(attachment) {
    saveBlob(await (await fileRequest(`/ledger/attachments/${attachment.id}`)).blob(), attachment.filename);
  }

  async function load() {
    const { items } = await api(`/ledger/transactions/${encodeURIComponent(transactionId)}/attachments`);
    replace(list, items.length ? items.map((a) => h("li", { class: "row" },
      h("button", { type: "button", class: "link", onclick: () => open(a).catch((e) => status.error(e.message)) },
        a.filename),
      h("span", { class: "muted", text: t("transaction.kb", { size: Math.max(1, Math.round(a.size / 1024)) }) }),
      h("button", { type: "button", class: "small", onclick: async () => {
        try {
          await api(`/ledger/attachments/${a.id}`, { method: "DELETE" });
          status.ok(t("transaction.removed", { name: a.filename }));
        } catch (error) {
          status.error(error.message);
        }
        await load();
      } }, t("transaction.removeNamed", { name: a.filename }))))
      : h("li", { class: "empty", text: t("transaction.noAttachments") }));
  }

  onSubmit(form, status, async () => {
    if (!file.files?.length) return status.error(t("transaction.chooseFile"));
    const body = new FormData();
    body.append("transaction_id", transactionId);
    body.append("file", file.files[0]);
    const added = await (await fileRequest("/ledger/attachments", { method: "POST", form: body })).json();
    status.ok(t("transaction.attached", { name: added.filename }));
    file.value = "";
    await load();
    return undefined;
  });
  return { element, status, load };
}
