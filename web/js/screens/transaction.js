// #/transaction?id=… — one transaction: edit it (amount, day, payee, note, tags, state, one category or a
// split across several), delete it, undo its last change, and read its whole history (who, when, what).
// Every save names the version it started from; if someone saved in between, the server says 409 and the
// screen reloads what is there now.

import { ApiError, api, humanMessage } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { fillSelect } from "../panels/panel.js";
import { categoryChoices, hashParams, ledgerNav, loadBook } from "./ledger.js";

const STATES = [["uncleared", "Not cleared"], ["cleared", "Cleared"], ["reconciled", "Reconciled"]];

export async function renderTransaction(container) {
  const id = hashParams().get("id") ?? "";
  const status = statusLine();
  const heading = h("h1", { text: "Transaction" });
  const editor = h("section", { class: "card", "aria-label": "Edit" });
  const historyList = h("ol", { class: "rows" });
  container.append(ledgerNav(null), heading, status.element, editor,
    h("section", { class: "card", "aria-labelledby": "history-title" },
      h("h2", { id: "history-title", text: "History" }), historyList));
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
      heading.textContent = "Deleted transaction";
      replace(editor, h("p", { text: "This transaction is deleted. Undo brings it back." }),
        undoButton(last.version));
      files.element.hidden = true;
      return;
    }
    const t = await api(`/ledger/transactions/${encodeURIComponent(id)}`);
    heading.textContent = t.payee || t.category_name || "Transaction";
    replace(editor, editForm(t));
    files.element.hidden = false;
    await files.load().catch((error) => files.status.error(error.message));
  }

  function undoButton(version) {
    return h("button", { type: "button", onclick: () => act(() => api(
      `/ledger/transactions/${encodeURIComponent(id)}/undo`, { method: "POST", body: { expected_version: version } }),
    "Undone.") }, "Undo last change");
  }

  async function act(request, message) {
    status.clear();
    try {
      await request();
      status.ok(message);
    } catch (error) {
      status.error(error instanceof ApiError && error.status === 409
        ? "Someone changed this transaction meanwhile. Here it is as it is now; check and try again."
        : error.message);
    }
    await reload().catch((error) => status.error(error.message));
  }

  function editForm(t) {
    const digits = minorDigits(t.currency);
    const money = (minor) => toDecimalString(minor, digits);
    const amount = h("input", { type: "text", inputmode: "decimal", required: true, value: money(t.amount_minor) });
    const day = h("input", { type: "date", required: true, value: t.booked_on });
    const payee = h("input", { type: "text", maxlength: 200, value: t.payee, autocomplete: "off" });
    const note = h("input", { type: "text", maxlength: 1000, value: t.note, autocomplete: "off" });
    const tags = h("input", { type: "text", value: t.tags.join(", "), autocomplete: "off" });
    const state = h("select", {});
    fillSelect(state, STATES.map(([value, label]) => ({ value, label })));
    state.value = t.status;
    const choices = categoryChoices(book, t.kind);
    const current = book.category.get(t.category_id);
    if (current && current.archived) choices.unshift({ value: current.id, label: `${current.name} (archived)` });
    const category = h("select", {});
    fillSelect(category, choices, "No category");
    category.value = t.category_id ?? "";
    const parts = h("div", { class: "stack" });
    const remaining = h("p", { class: "hint", "aria-live": "polite" });
    let partCount = 0;

    function addPart(categoryId = "", minor = null) {
      partCount += 1;
      const select = h("select", { required: true });
      fillSelect(select, choices, "Choose a category");
      select.value = categoryId;
      const input = h("input", { type: "text", inputmode: "decimal", required: true,
        value: minor === null ? "" : money(minor), oninput: sumUp });
      const line = h("div", { class: "row split-part" }, field(`Part ${partCount} category`, select),
        field(`Part ${partCount} amount`, input),
        h("button", { type: "button", class: "small", onclick: () => { line.remove(); sumUp(); } }, "Remove"));
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
      remaining.textContent = used === total.minor ? "The parts add up to the amount."
        : `Left to split: ${formatMoney(total.minor - used, t.currency)}`;
    }
    amount.addEventListener("input", sumUp);
    for (const s of t.splits) addPart(s.category_id, s.amount_minor);

    const formStatus = statusLine();
    const isTransfer = t.kind === "transfer";
    const form = h("form", { class: "stack", "aria-label": "Edit transaction" },
      h("p", { class: "muted", text: isTransfer
        ? `Transfer from ${book.account.get(t.account_id)?.name} to ${book.account.get(t.counter_account_id)?.name}`
        : `${t.kind === "income" ? "Income into" : "Expense from"} ${book.account.get(t.account_id)?.name}` }),
      h("div", { class: "row" }, field(`Amount (${t.currency})`, amount), field("Day", day)),
      h("div", { class: "row" }, field("Payee", payee), field("State", state)),
      field("Note", note), field("Tags", tags, "Separated by commas, e.g. trip, work"),
      isTransfer ? null : h("fieldset", { class: "stack" }, h("legend", { text: "Category or split" }),
        field("Category", category, "Used when the transaction is not split"), parts, remaining,
        h("button", { type: "button", class: "small", onclick: () => addPart() }, "Add a split part")),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save"),
        undoButton(t.version),
        h("button", { type: "button", onclick: () => {
          if (!window.confirm("Delete this transaction? Undo can bring it back.")) return;
          act(() => api(`/ledger/transactions/${encodeURIComponent(id)}?expected_version=${t.version}`,
            { method: "DELETE" }), "Deleted.");
        } }, "Delete")),
      formStatus.element);

    onSubmit(form, formStatus, async () => {
      const total = parseAmount(amount.value, digits);
      if (!total.ok) {
        formStatus.error(`Amount: ${total.error}`);
        amount.focus();
        return;
      }
      const body = { expected_version: t.version, amount_minor: total.minor, booked_on: day.value,
        payee: payee.value.trim(), note: note.value.trim(), status: state.value,
        tags: tags.value.split(",").map((tag) => tag.trim().toLowerCase()).filter(Boolean) };
      if (!isTransfer) {
        const split = readParts();
        const bad = split.find((p) => !p.amount.ok || !p.category_id);
        if (bad) {
          formStatus.error(bad.category_id ? `Split part: ${bad.amount.error}` : "Choose a category for each part.");
          return;
        }
        if (split.length) {
          body.splits = split.map((p) => ({ category_id: p.category_id, amount_minor: p.amount.minor }));
        } else {
          body.category_id = category.value || null;
          if (t.splits.length) body.splits = [];
        }
      }
      await act(() => api(`/ledger/transactions/${encodeURIComponent(id)}`, { method: "PATCH", body }), "Saved.");
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
      + formatMoney(s.amount_minor, currency)).join(", ") || "none";
    if (Array.isArray(value)) return value.join(", ") || "none";
    return String(value);
  }

  function who(actor) {
    if (actor === me.user_id) return "you";
    return actor === "system" ? "Tally" : "another member of the household";
  }

  function showHistory(history) {
    let currency = "EUR";
    replace(historyList, history.map((entry) => {
      currency = entry.state?.currency ?? currency;
      const label = entry.undoes ? `${entry.change} (undo of change ${entry.undoes})` : entry.change;
      const changes = entry.change === "recorded" || entry.change === "restored" || entry.change === "deleted"
        ? [] : Object.entries(entry.changes).map(([name, [old, now]]) => h("li", {},
          `${name.replace(/_minor$|_id$/, "").replace("_", " ")}: ${describe(name, old, currency)} → `
          + describe(name, now, currency)));
      return h("li", { class: "stack" },
        h("span", {}, h("strong", { text: `${entry.version}. ${label}` }),
          h("small", { class: "muted", text: ` ${formatDateTime(entry.occurred_at)} by ${who(entry.actor)}` })),
        changes.length ? h("ul", {}, changes) : null);
    }));
  }

  await reload().catch((error) => status.error(error.message));
  return undefined;
}

// --- attachments: receipts and documents (JPEG, PNG, WebP, PDF) -----------------------------------------
// Files are not JSON, so they go through fetch with the session's access token (refreshed by a JSON
// request first, as the import screen does).

async function fileRequest(path, { method = "GET", form = undefined } = {}) {
  await api("/auth/me");
  let response;
  try {
    response = await fetch(`/api${path}`, { method, body: form, cache: "no-store", credentials: "same-origin",
      headers: { Authorization: `Bearer ${sessionStorage.getItem("tally.accessToken") ?? ""}` } });
  } catch {
    throw new ApiError(0, "Cannot reach Tally. Check your connection and try again.");
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new ApiError(response.status, humanMessage(response.status, problem), problem);
  }
  return response;
}

function attachmentsCard(transactionId) {
  const status = statusLine();
  const list = h("ul", { class: "rows" });
  const file = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,application/pdf", required: true });
  const form = h("form", { class: "row", "aria-label": "Attach a file" }, field("Receipt or document", file,
    "JPEG, PNG, WebP or PDF"), h("button", { type: "submit" }, "Attach"));
  const element = h("section", { class: "card stack", "aria-labelledby": "files-title" },
    h("h2", { id: "files-title", text: "Attachments" }), list, form, status.element);

  async function open(attachment) {
    const blob = await (await fileRequest(`/ledger/attachments/${attachment.id}`)).blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: attachment.filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function load() {
    const { items } = await api(`/ledger/transactions/${encodeURIComponent(transactionId)}/attachments`);
    replace(list, items.length ? items.map((a) => h("li", { class: "row" },
      h("button", { type: "button", class: "link", onclick: () => open(a).catch((e) => status.error(e.message)) },
        a.filename),
      h("span", { class: "muted", text: `${Math.max(1, Math.round(a.size / 1024))} KB` }),
      h("button", { type: "button", class: "small", onclick: async () => {
        try {
          await api(`/ledger/attachments/${a.id}`, { method: "DELETE" });
          status.ok(`Removed ${a.filename}.`);
        } catch (error) {
          status.error(error.message);
        }
        await load();
      } }, `Remove ${a.filename}`)))
      : h("li", { class: "empty", text: "No attachments." }));
  }

  onSubmit(form, status, async () => {
    if (!file.files?.length) return status.error("Choose a file.");
    const body = new FormData();
    body.append("transaction_id", transactionId);
    body.append("file", file.files[0]);
    const added = await (await fileRequest("/ledger/attachments", { method: "POST", form: body })).json();
    status.ok(`Attached ${added.filename}.`);
    file.value = "";
    await load();
    return undefined;
  });
  return { element, status, load };
}
