// #/import — the import wizard (upload → map → preview with each row's category → confirm → result with
// undo), the recent imports,
// and the exports (transactions as CSV or XLSX for an account and dates; the whole ledger as JSON, which
// restores into an empty household).
//
// Uploads and downloads are not JSON, so they go through fetch here with the session's access token; a
// JSON request first (api() refreshes the token when it has expired) keeps the token fresh.

import { ApiError, api, humanMessage } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";

const ACCEPT = ".csv,.txt,.tsv,.ofx,.qfx,.qif,.xml,.sta,.mt940,.940,.942,.mt942";
const ROLES = [
  ["date_column", "imports.roles.date"], ["amount_column", "imports.roles.amount"], ["debit_column", "imports.roles.debit"],
  ["credit_column", "imports.roles.credit"], ["direction_column", "imports.roles.direction"],
  ["payee_column", "imports.roles.payee"], ["description_column", "imports.roles.description"],
  ["bank_id_column", "imports.roles.bankId"], ["currency_column", "imports.roles.currency"],
];
// An import's status as the API names it → its label.
const STATUSES = { uploaded: "imports.statuses.uploaded", importing: "imports.statuses.importing",
  imported: "imports.statuses.imported", failed: "imports.statuses.failed", undoing: "imports.statuses.undoing",
  undone: "imports.statuses.undone", expired: "imports.statuses.expired" };
const DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d",
  "%Y.%m.%d", "%d.%m.%y", "%d/%m/%y", "%m/%d/%y", "%d-%m-%y", "%Y%m%d", "%d %b %Y", "%d-%b-%Y", "%d %B %Y",
  "%b %d, %Y", "%B %d, %Y", "%d-%b-%y"];
const EXAMPLE = new Date(2025, 0, 31);

/** 31 Jan 2025 written in a strftime-like format, so a person can recognise the one their bank uses. */
function example(format) {
  const pad = (n) => String(n).padStart(2, "0");
  const month = (style) => EXAMPLE.toLocaleString("en", { month: style });
  const parts = { "%Y": "2025", "%y": "25", "%m": pad(EXAMPLE.getMonth() + 1), "%d": pad(EXAMPLE.getDate()),
    "%b": month("short"), "%B": month("long") };
  return format.replace(/%[YymdbB]/g, (code) => parts[code]);
}

async function token() {
  await api("/auth/me"); // refreshes the access token if it has expired
  return sessionStorage.getItem("tally.accessToken") ?? "";
}

async function send(path, { method = "GET", form = null } = {}) {
  let response;
  try {
    response = await fetch(`/api${path}`, { method, body: form, cache: "no-store", credentials: "same-origin",
      headers: { Authorization: `Bearer ${await token()}` } });
  } catch {
    throw new ApiError(0, t("api.unreachable"));
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new ApiError(response.status, humanMessage(response.status, problem), problem);
  }
  return response;
}

async function download(path, filename) {
  const blob = await (await send(path)).blob();
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function options(items, selected) {
  return items.map(([value, label]) => h("option", { value, selected: String(value) === String(selected) }, label));
}

export async function renderImports(container) {
  const status = statusLine();
  const wizard = h("div", { class: "stack" });
  const history = h("ul", { class: "rows", "aria-live": "polite" });
  const exports = h("div", { class: "stack" });
  container.append(
    h("section", { class: "card stack", "aria-labelledby": "import-title" },
      h("h1", { id: "import-title", text: t("imports.title") }), wizard, status.element),
    h("section", { class: "card stack", "aria-labelledby": "history-title" },
      h("h2", { id: "history-title", text: t("imports.recent") }), history),
    h("section", { class: "card stack", "aria-labelledby": "export-title" },
      h("h2", { id: "export-title", text: t("imports.export") }), exports),
    h("p", {}, h("a", { href: "#/" }, t("imports.back"))));

  let accounts = [];
  let mappings = [];
  let categories = [];
  try {
    [{ items: accounts }, { items: mappings }, { items: categories }] = await Promise.all([api("/ledger/accounts"),
      api("/ledger/imports/mappings"), api("/ledger/categories")]);
  } catch (error) {
    status.error(error.message);
    return;
  }
  const accountName = (id) => accounts.find((a) => a.id === id)?.name ?? t("imports.anAccount");
  const accountCurrency = (id) => accounts.find((a) => a.id === id)?.currency ?? "EUR";

  // --- step 1: upload -----------------------------------------------------------------------------------
  function showUpload() {
    status.clear();
    if (!accounts.length) {
      replace(wizard, h("p", {}, t("imports.openAccountFirst")));
      return;
    }
    const account = h("select", { name: "account_id", required: true },
      options(accounts.map((a) => [a.id, `${a.name} (${a.currency})`])));
    const mapping = h("select", { name: "mapping_name" },
      options([["", t("imports.detect")], ...mappings.map((m) => [m.name, t("imports.savedMapping", { name: m.name })])]));
    const file = h("input", { type: "file", name: "file", accept: ACCEPT, required: true });
    const form = h("form", { class: "stack", novalidate: true },
      field(t("imports.account"), account),
      field(t("imports.file"), file, t("imports.fileHint")),
      field(t("imports.mapping"), mapping),
      h("button", { type: "submit", class: "primary" }, t("imports.upload")));
    onSubmit(form, status, async () => {
      if (!file.files.length) throw new Error(t("imports.chooseFile"));
      const body = new FormData();
      body.append("account_id", account.value);
      if (mapping.value) body.append("mapping_name", mapping.value);
      body.append("file", file.files[0]);
      showPreview(await (await send("/ledger/imports", { method: "POST", form: body })).json());
    });
    replace(wizard, form);
  }

  // --- steps 2 and 3: map and preview -----------------------------------------------------------------
  function showPreview(preview) {
    const batch = preview.batch;
    const currency = accountCurrency(batch.account_id);
    const current = preview.mapping ? { ...preview.mapping } : null;
    const parts = [h("p", {}, `${batch.filename} → ${accountName(batch.account_id)}`)];
    let saveAs = null;
    if (current) {
      const columns = [["", t("imports.noColumn")], ...preview.headers.map((name, i) => [i, `${i + 1}: ${name}`])];
      const controls = ROLES.map(([key, labelKey]) => {
        const select = h("select", { onchange: () => { current[key] = select.value === "" ? null : Number(select.value); } },
          options(columns, current[key] ?? ""));
        return field(t(labelKey), select);
      });
      const formats = preview.date_formats.length ? preview.date_formats : DATE_FORMATS;
      const dateFormat = h("select", { onchange: () => { current.date_format = dateFormat.value; } },
        options(formats.map((f) => [f, `${example(f)} (${f})`]), current.date_format));
      const decimal = h("select", { onchange: () => { current.decimal_separator = decimal.value; } },
        options([[".", t("imports.point")], [",", t("imports.comma")]], current.decimal_separator));
      saveAs = h("input", { type: "text", maxlength: 100, autocomplete: "off" });
      const remap = h("form", { class: "stack" },
        preview.date_formats.length > 1
          ? h("p", { class: "status error", role: "alert" }, t("imports.ambiguousDates"))
          : null,
        controls,
        field(t("imports.dateFormat"), dateFormat, t("imports.dateFormatHint")),
        field(t("imports.decimal"), decimal),
        h("button", { type: "submit" }, t("imports.updatePreview")));
      onSubmit(remap, status, async () => {
        showPreview({ ...(await api(`/ledger/imports/${batch.id}/preview`, { method: "POST",
          body: { mapping: current } })), headers: preview.headers, sample: preview.sample,
        date_formats: preview.date_formats });
      });
      parts.push(h("details", { open: Boolean(preview.problem) || preview.date_formats.length > 1 },
        h("summary", {}, t("imports.columns")), remap));
    }
    // Each new row's category: what a rule gives it, else the suggestion when it is at least the household's
    // threshold (and "accept" is on), else none; the person may choose another, which the confirm sends.
    const pct = preview.accept_above_pct ?? 90;
    const chosen = new Map();
    const selects = [];
    const accept = h("input", { type: "checkbox", checked: true, onchange: () => selects.forEach((s) => s.reset()) });
    const categoryCell = (row) => {
      if (row.duplicate || row.amount_minor === 0) return h("td", {});
      const income = row.amount_minor > 0;
      const usable = categories.filter((c) => !c.archived && !c.merged_into && (c.kind === "income") === income);
      const groups = [...new Set(usable.map((c) => c.group))];
      const select = h("select", { "aria-label": t("imports.category"),
        onchange: () => { chosen.set(row.where, select.value || null); } },
      h("option", { value: "" }, t("imports.uncategorised")),
      groups.map((group) => h("optgroup", { label: group },
        usable.filter((c) => c.group === group).map((c) => h("option", { value: c.id }, c.name)))));
      const automatic = () => (row.suggested_category_id
        && (row.source === "rule" || (accept.checked && row.confidence * 100 >= pct)) ? row.suggested_category_id : "");
      select.reset = () => {
        if (chosen.has(row.where)) return;
        select.value = automatic();
        if (select.selectedIndex < 0) select.value = ""; // a category no longer usable
      };
      select.reset();
      selects.push(select);
      const name = categories.find((c) => c.id === row.suggested_category_id)?.name;
      const hint = name ? h("span", { class: "muted block" }, t("imports.suggestion", { category: name,
        confidence: Math.round(row.confidence * 100), source: t(`imports.bySource.${row.source}`) })) : null;
      return h("td", {}, select, hint);
    };
    if (preview.problem) {
      parts.push(h("p", { class: "status error", role: "alert" }, t("imports.problem", { problem: preview.problem })));
    } else {
      parts.push(h("p", {}, t("imports.rowsSummary", { count: preview.rows_total, duplicates: preview.duplicates })));
      const acceptHint = h("small", { id: `accept-hint-${batch.id}`, class: "hint block", text: t("imports.acceptHint", { pct }) });
      accept.setAttribute("aria-describedby", acceptHint.id);
      parts.push(h("div", { class: "field" }, h("label", { class: "check" }, accept, ` ${t("imports.acceptAbove", { pct })}`),
        acceptHint));
      parts.push(h("div", { class: "table-scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, [t("imports.date"), t("imports.payee"), t("imports.description"), t("imports.amount"),
          t("imports.category"), ""].map((heading) => h("th", { scope: "col" }, heading)))),
        h("tbody", {}, preview.rows.map((row) => h("tr", {},
          h("td", {}, formatDate(row.booked_on)), h("td", {}, row.payee), h("td", { class: "muted" }, row.description),
          h("td", { class: "amount" }, formatMoney(row.amount_minor, currency)), categoryCell(row),
          h("td", {}, row.duplicate ? h("span", { class: "badge" }, t("imports.alreadyImported")) : "")))))));
      if (preview.rows_total > preview.rows.length) {
        parts.push(h("p", { class: "muted" }, t("imports.firstRows", { count: preview.rows.length })));
      }
    }
    const confirm = h("form", { class: "stack" },
      saveAs ? field(t("imports.saveAs"), saveAs, t("imports.saveAsHint")) : null,
      h("button", { type: "submit", class: "primary", disabled: Boolean(preview.problem) },
        t("imports.importCount", { count: Math.max(preview.rows_total - preview.duplicates, 0) })),
      h("button", { type: "button", class: "link", onclick: showUpload }, t("imports.another")));
    onSubmit(confirm, status, async () => {
      const body = {};
      if (current) body.mapping = current;
      if (saveAs && saveAs.value.trim()) body.save_mapping_as = saveAs.value.trim();
      if (chosen.size) body.categories = Object.fromEntries(chosen);
      body.accept_suggestions = accept.checked;
      const started = await api(`/ledger/imports/${batch.id}/confirm`, { method: "POST", body });
      if (body.save_mapping_as) mappings = (await api("/ledger/imports/mappings")).items;
      const done = await follow(started, "imports.importing");
      if (done.status === "imported") showResult(done);
      else status.error(t("imports.stoppedConfirm", { error: done.error ?? t("imports.tryAgain") }));
      await loadHistory();
    });
    parts.push(confirm);
    replace(wizard, ...parts);
  }

  // --- step 4: result, with undo --------------------------------------------------------------------------
  function showResult(batch) {
    const undo = h("button", { type: "button", onclick: () => undoBatch(batch) }, t("imports.undoImport"));
    replace(wizard,
      h("p", { class: "status ok", role: "status" },
        t("imports.result", { count: batch.rows_new, account: accountName(batch.account_id),
          duplicates: batch.rows_duplicate, skipped: batch.rows_skipped })),
      h("div", { class: "row-item" }, undo,
        h("button", { type: "button", class: "primary", onclick: showUpload }, t("imports.importAnother")),
        h("a", { href: "#/" }, t("imports.seeTransactions"))));
  }

  /** Shows the progress of an import or undo (it runs after the server answered) until it ends. */
  async function follow(batch, verbKey) {
    const bar = h("progress", { max: Math.max(batch.rows_total, 1), value: batch.rows_done });
    const label = h("p", { role: "status", "aria-live": "polite" });
    replace(wizard, field(t(verbKey, { name: batch.filename }), bar), label);
    let current = batch;
    while (current.status === "importing" || current.status === "undoing") {
      await new Promise((resolve) => { setTimeout(resolve, 500); });
      current = await api(`/ledger/imports/${batch.id}`);
      bar.max = Math.max(current.rows_total, 1);
      bar.value = current.rows_done;
      label.textContent = t("imports.progress", { done: current.rows_done, count: current.rows_total });
    }
    return current;
  }

  async function undoBatch(batch) {
    status.clear();
    try {
      const undone = await follow(await api(`/ledger/imports/${batch.id}/undo`, { method: "POST" }), "imports.undoing");
      showUpload();
      if (undone.status === "undone") status.ok(t("imports.undone", { name: undone.filename }));
      else status.error(t("imports.undoStopped", { error: undone.error ?? t("imports.tryAgain") }));
      await loadHistory();
    } catch (error) {
      status.error(error.message);
    }
  }

  async function resume(batch) {
    status.clear();
    try {
      const done = await follow(await api(`/ledger/imports/${batch.id}/confirm`, { method: "POST", body: {} }),
        "imports.importing");
      if (done.status === "imported") showResult(done);
      else status.error(t("imports.stopped", { error: done.error ?? t("imports.tryAgain") }));
      await loadHistory();
    } catch (error) {
      status.error(error.message);
    }
  }

  async function loadHistory() {
    const { items } = await api("/ledger/imports?limit=20");
    replace(history, items.length ? items.map((batch) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { class: "block", text: batch.filename }),
        h("span", { class: "muted", text: `${accountName(batch.account_id)} · ${formatDateTime(batch.created_at)} · `
          + `${STATUSES[batch.status] ? t(STATUSES[batch.status]) : batch.status}`
          + `${batch.status === "importing" ? ` ${batch.rows_done}/${batch.rows_total}` : ""}`
          + ` · ${t("imports.counts", { new: batch.rows_new, duplicates: batch.rows_duplicate })}`
          + (batch.error ? ` · ${batch.error}` : "") })),
      batch.status === "imported"
        ? h("button", { type: "button", class: "small", onclick: () => undoBatch(batch) }, t("imports.undo")) : null,
      batch.status === "failed"
        ? h("button", { type: "button", class: "small", onclick: () => resume(batch) }, t("imports.goOn")) : null))
      : h("li", { class: "empty", text: t("imports.nothing") }));
  }

  // --- exports --------------------------------------------------------------------------------------------
  function showExports() {
    const exportStatus = statusLine();
    const account = h("select", {}, options([["", t("imports.allAccounts")], ...accounts.map((a) => [a.id, a.name])]));
    const from = h("input", { type: "date" });
    const to = h("input", { type: "date" });
    const query = () => {
      const params = new URLSearchParams();
      if (account.value) params.set("account_id", account.value);
      if (from.value) params.set("from", from.value);
      if (to.value) params.set("to", to.value);
      const text = params.toString();
      return text ? `?${text}` : "";
    };
    const run = (action) => async () => {
      exportStatus.clear();
      try {
        await action();
      } catch (error) {
        exportStatus.error(error.message);
      }
    };
    const restoreFile = h("input", { type: "file", accept: ".json,application/json" });
    const restore = h("form", { class: "stack" },
      field(t("imports.restoreFile"), restoreFile, t("imports.restoreHint")),
      h("button", { type: "submit" }, t("imports.restore")));
    onSubmit(restore, exportStatus, async () => {
      if (!restoreFile.files.length) throw new Error(t("imports.chooseRestore"));
      const body = new FormData();
      body.append("file", restoreFile.files[0]);
      const result = await (await send("/ledger/imports/ledger", { method: "POST", form: body })).json();
      exportStatus.ok(t("imports.restored", { count: result.events }));
    });
    replace(exports,
      field(t("imports.account"), account), field(t("imports.from"), from), field(t("imports.to"), to),
      h("div", { class: "row-item" },
        h("button", { type: "button", onclick: run(() => download(`/ledger/exports/transactions.csv${query()}`,
          "transactions.csv")) }, t("imports.downloadCsv")),
        h("button", { type: "button", onclick: run(() => download(`/ledger/exports/transactions.xlsx${query()}`,
          "transactions.xlsx")) }, t("imports.downloadXlsx"))),
      h("button", { type: "button", onclick: run(() => download("/ledger/exports/ledger.json", "tally-ledger.json")) },
        t("imports.downloadLedger")),
      restore, exportStatus.element);
  }

  showUpload();
  showExports();
  try {
    await loadHistory();
  } catch (error) {
    status.error(error.message);
  }
}
