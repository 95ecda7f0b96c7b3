// #/import — the import wizard for any file: a bank statement (upload → which account → map → preview with
// each row's category → confirm → result with undo; a file naming several bank accounts says where each
// goes, and they are imported together in one batch) or a whole history from another app (what the file holds → which account each of
// its accounts goes into → import with progress → undo), the recent imports and histories,
// and the exports (transactions as CSV or XLSX for an account and dates; the whole ledger as JSON, which
// restores into an empty household).
//
// Uploads and downloads are not JSON, so they go through fetch here with the session's access token; a
// JSON request first (api() refreshes the token when it has expired) keeps the token fresh.

import { api } from "../api.js";
import { attempt, field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { download, fileRequest } from "../widgets/files.js";
import { accountKindLabel } from "../widgets/inputs.js";

const STATEMENTS = [".ofx", ".qfx", ".qif", ".xml", ".sta", ".mt940", ".940", ".942", ".mt942", ".txt", ".tsv"];
// A CSV may be a statement or another app's history: the history import is asked first and says when it is not.
const HISTORIES = [".zip", ".csv", ".gnucash", ".sqlite", ".sqlite3", ".gz", ".beancount", ".bean", ".ledger"];
const ACCEPT = [...STATEMENTS, ...HISTORIES].join(",");
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
  // The accounts a batch's rows went into: one, or each bank account's of a file naming several.
  const batchAccounts = (batch) => Object.values(batch.accounts ?? { one: batch.account_id }).map(accountName).join(", ");

  // --- step 1: upload any file ---------------------------------------------------------------------------
  function showUpload() {
    status.clear();
    const account = h("select", { name: "account_id" },
      options([["", t("imports.fromFile")], ...accounts.map((a) => [a.id, `${a.name} (${a.currency})`]),
        ["new", t("imports.newFromFile")]]));
    const mapping = h("select", { name: "mapping_name" },
      options([["", t("imports.detect")], ...mappings.map((m) => [m.name, t("imports.savedMapping", { name: m.name })])]));
    const file = h("input", { type: "file", name: "file", accept: ACCEPT, required: true });
    const form = h("form", { class: "stack", novalidate: true, "aria-label": t("imports.title") },
      field(t("imports.file"), file, t("imports.fileHint")),
      field(t("imports.account"), account, t("imports.accountHint")),
      field(t("imports.mapping"), mapping),
      h("button", { type: "submit", class: "primary" }, t("imports.upload")));
    onSubmit(form, status, async () => {
      if (!file.files.length) throw new Error(t("imports.chooseFile"));
      const chosen = file.files[0];
      const name = chosen.name.toLowerCase();
      if (!STATEMENTS.some((ext) => name.endsWith(ext))) {
        const found = await readHistory(chosen);
        if (found) {
          showHistory(chosen, found);
          return;
        }
      }
      await uploadStatement(chosen, { accountId: account.value, mappingName: mapping.value });
    });
    replace(wizard, form);
  }

  /** What another app's export holds (a dry run), or null when the file is not one (then it is a statement). */
  async function readHistory(chosen) {
    const body = new FormData();
    body.append("dry_run", "true");
    body.append("file", chosen);
    try {
      return (await (await fileRequest("/ledger/histories", { method: "POST", form: body })).json()).found;
    } catch (error) {
      if (error.problem?.not_a_history) return null;
      throw error;
    }
  }

  /** Uploads a statement into the chosen account (or the ones the file names); a file whose accounts are
   * not known yet asks where each goes (`targets`: the file's account key → an account id or "new"). */
  async function uploadStatement(chosen, { accountId = "", mappingName = "", targets = null }) {
    const body = new FormData();
    if (accountId) body.append("account_id", accountId);
    if (mappingName) body.append("mapping_name", mappingName);
    if (targets) body.append("accounts", JSON.stringify(targets));
    body.append("file", chosen);
    let preview;
    try {
      preview = await (await fileRequest("/ledger/imports", { method: "POST", form: body })).json();
    } catch (error) {
      if (error.problem?.accounts?.length && !targets) {
        showStatementAccounts(chosen, error.problem.accounts, mappingName);
        return;
      }
      throw error;
    }
    const used = Object.values(preview.batch.accounts ?? { one: preview.batch.account_id });
    if (used.some((id) => !accounts.some((a) => a.id === id))) {
      ({ items: accounts } = await api("/ledger/accounts")); // some were opened for the statement
    }
    showPreview(preview);
  }

  // --- a statement naming bank accounts Tally does not know yet, or several -------------------------------
  function showStatementAccounts(chosen, found, mappingName) {
    const rows = found.map((source) => {
      const same = accounts.filter((a) => !source.currency || a.currency === source.currency);
      const select = h("select", { "aria-label": t("imports.goesInto", { name: source.name || source.key }) },
        options([...same.map((a) => [a.id, a.name]), ["new", t("imports.newNamed", { name: source.name || source.key })],
          ["skip", t("imports.skip")]], source.account_id ?? "new"));
      return { source, select };
    });
    const form = h("form", { class: "stack", "aria-label": t("imports.whichAccounts") },
      h("p", {}, t("imports.fileNames", { count: found.length,
        new: found.filter((f) => !f.account_id).length })),
      h("div", { class: "table-scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, [t("imports.bankAccount"), t("imports.rows"), t("imports.goesIntoHeading")]
          .map((heading) => h("th", { scope: "col" }, heading)))),
        h("tbody", {}, rows.map(({ source, select }) => h("tr", {},
          h("td", {}, h("strong", { class: "block", text: source.name || source.key }),
            h("span", { class: "muted", text: [source.key, source.currency].filter(Boolean).join(" · ") })),
          h("td", { class: "amount" }, String(source.rows)), h("td", {}, select)))))),
      h("button", { type: "submit", class: "primary" }, t("imports.continue")),
      h("button", { type: "button", class: "link", onclick: showUpload }, t("imports.another")));
    onSubmit(form, status, async () => {
      const targets = Object.fromEntries(rows.filter(({ select }) => select.value !== "skip")
        .map(({ source, select }) => [source.key, select.value]));
      if (!Object.keys(targets).length) throw new Error(t("imports.nothingChosen"));
      await uploadStatement(chosen, { targets, mappingName });
    });
    replace(wizard, form);
  }

  // --- a whole history from another app -------------------------------------------------------------------
  function showHistory(chosen, found) {
    const same = accounts.filter((a) => a.currency === found.currency && !a.archived);
    const rows = found.accounts.map((source) => ({ source, select: h("select", {
      "aria-label": t("imports.goesInto", { name: source.name }) },
    options([["", t("imports.newNamed", { name: source.name })], ...same.map((a) => [a.id, a.name])], "")) }));
    const skipped = Object.entries(found.skipped ?? {});
    const form = h("form", { class: "stack", "aria-label": t("imports.historyTitle") },
      h("p", { role: "status" }, h("strong", {}, found.summary)),
      h("p", { class: "muted" }, t("imports.historyHint", { currency: found.currency })),
      h("div", { class: "table-scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, [t("imports.theirAccount"), t("imports.opening"), t("imports.goesIntoHeading")]
          .map((heading) => h("th", { scope: "col" }, heading)))),
        h("tbody", {}, rows.map(({ source, select }) => h("tr", {},
          h("td", {}, h("strong", { class: "block", text: source.name }),
            h("span", { class: "muted", text: source.closed ? t("imports.closed") : accountKindLabel(source.kind) })),
          h("td", { class: "amount" }, formatMoney(source.opening_balance_minor, found.currency)),
          h("td", {}, select)))))),
      skipped.length ? h("p", { class: "muted" }, t("imports.leftOut", {
        list: skipped.map(([why, count]) => `${why}: ${count}`).join("; ") })) : null,
      h("button", { type: "submit", class: "primary" }, t("imports.importHistory", { count: found.transactions })),
      h("button", { type: "button", class: "link", onclick: showUpload }, t("imports.another")));
    onSubmit(form, status, async () => {
      const body = new FormData();
      body.append("currency", found.currency);
      const targets = Object.fromEntries(rows.filter(({ select }) => select.value)
        .map(({ source, select }) => [source.source_id, select.value]));
      if (Object.keys(targets).length) body.append("accounts", JSON.stringify(targets));
      body.append("file", chosen);
      const migration = await followHistory(found,
        fileRequest("/ledger/histories", { method: "POST", form: body }).then((response) => response.json()));
      ({ items: accounts } = await api("/ledger/accounts"));
      showHistoryResult(migration);
      await loadHistory();
    });
    replace(wizard, form);
  }

  /** While the history import's request runs (and, for a large one, after its answer) the migration it started
   * shows its counts. */
  async function followHistory(found, request) {
    const bar = h("progress", { max: Math.max(found.transactions, 1) });
    const label = h("p", { role: "status", "aria-live": "polite" });
    replace(wizard, field(t("imports.importingHistory", { name: found.name }), bar), label);
    let finished = false;
    const answer = request.finally(() => { finished = true; });
    const started = Date.now();
    while (!finished) {
      await Promise.race([answer.catch(() => null), new Promise((resolve) => { setTimeout(resolve, 1000); })]);
      if (finished) break;
      const [latest] = (await api("/ledger/histories?limit=1")).items;
      if (latest && latest.status === "importing" && Date.parse(latest.created_at) >= started - 60_000) {
        const done = latest.counts.transactions_new + latest.counts.transfers_new + latest.counts.already_there
          + latest.counts.restored;
        bar.value = done;
        label.textContent = t("imports.progress", { done, count: found.transactions });
      }
    }
    // A large history is written after the answer (202): its migration shows the progress.
    let migration = (await answer).migration;
    while (migration.status === "importing") {
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
      migration = await api(`/ledger/histories/${migration.id}`);
      const done = migration.counts.transactions_new + migration.counts.transfers_new + migration.counts.already_there
        + migration.counts.restored;
      bar.value = done;
      label.textContent = t("imports.progress", { done, count: found.transactions });
    }
    if (migration.status !== "imported") throw new Error(t("imports.stopped", { error: migration.error ?? t("imports.tryAgain") }));
    return migration;
  }

  function showHistoryResult(migration) {
    const undo = h("button", { type: "button", onclick: () => undoHistory(migration) }, t("imports.undoImport"));
    replace(wizard,
      h("p", { class: "status ok", role: "status" }, t("imports.historyResult", {
        count: migration.counts.transactions_new + migration.counts.transfers_new,
        accounts: migration.counts.accounts_new, categories: migration.counts.categories_new,
        already: migration.counts.already_there })),
      h("div", { class: "row-item" }, undo,
        h("button", { type: "button", class: "primary", onclick: showUpload }, t("imports.importAnother")),
        h("a", { href: "#/" }, t("imports.seeTransactions"))));
  }

  async function undoHistory(migration) {
    status.clear();
    try {
      let current = await api(`/ledger/histories/${migration.id}/undo`, { method: "POST" });
      const label = h("p", { role: "status", "aria-live": "polite" });
      replace(wizard, h("p", {}, t("imports.undoing", { name: migration.filename })), h("progress", {}), label);
      while (current.status === "undoing") {
        await new Promise((resolve) => { setTimeout(resolve, 500); });
        current = await api(`/ledger/histories/${migration.id}`);
        label.textContent = t("imports.undoneSoFar", { count: current.counts.undone ?? 0 });
      }
      showUpload();
      if (current.status === "undone") status.ok(t("imports.undone", { name: current.filename }));
      else status.error(t("imports.undoStopped", { error: current.error ?? t("imports.tryAgain") }));
      await loadHistory();
    } catch (error) {
      status.error(error.message);
    }
  }

  // --- steps 2 and 3: map and preview -----------------------------------------------------------------
  // The bank's closing balance, where the file carries one, against Tally's once the import is recorded; the
  // result offers to reconcile the account with that statement.
  let balanceChecks = [];
  function balanceNotes(checks, offerReconcile) {
    return checks.map((check) => {
      const currency = accountCurrency(check.account_id);
      const agrees = check.difference_minor === 0;
      const money = (minor) => formatMoney(minor, currency);
      const link = offerReconcile ? h("a", { href: `#/reconcile?account=${encodeURIComponent(check.account_id)}`
        + `&date=${check.on}&balance=${check.bank_balance_minor}` }, checks.length > 1
        ? `${t("imports.reconcileNow")} (${accountName(check.account_id)})` : t("imports.reconcileNow")) : null;
      return h("p", agrees ? { class: "status ok" } : { class: "status error", role: "alert" },
        t("imports.bankBalance", { day: formatDate(check.on), bank: money(check.bank_balance_minor),
          tally: money(check.tally_balance_minor) }), " ",
        agrees ? t("imports.balanceAgrees") : t("imports.balanceDiffers", { difference: money(check.difference_minor) }),
        link ? [" ", link] : null);
    });
  }

  function showPreview(preview) {
    balanceChecks = preview.balance_checks ?? [];
    const batch = preview.batch;
    const several = Object.values(batch.accounts ?? {});
    const current = preview.mapping ? { ...preview.mapping } : null;
    const parts = [h("p", {}, `${batch.filename} → ${batchAccounts(batch)}`)];
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
      parts.push(...balanceNotes(balanceChecks, false));
      const acceptHint = h("small", { id: `accept-hint-${batch.id}`, class: "hint block", text: t("imports.acceptHint", { pct }) });
      accept.setAttribute("aria-describedby", acceptHint.id);
      parts.push(h("div", { class: "field" }, h("label", { class: "check" }, accept, ` ${t("imports.acceptAbove", { pct })}`),
        acceptHint));
      parts.push(h("div", { class: "table-scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, [t("imports.date"), several.length ? t("imports.account") : null, t("imports.payee"),
          t("imports.description"), t("imports.amount"), t("imports.category"), ""]
          .filter((heading) => heading !== null).map((heading) => h("th", { scope: "col" }, heading)))),
        h("tbody", {}, preview.rows.map((row) => h("tr", {},
          h("td", {}, formatDate(row.booked_on)), several.length ? h("td", {}, accountName(row.account_id)) : null,
          h("td", {}, row.payee), h("td", { class: "muted" }, row.description),
          h("td", { class: "amount" }, formatMoney(row.amount_minor, accountCurrency(row.account_id ?? batch.account_id))),
          categoryCell(row),
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
        t("imports.result", { count: batch.rows_new, account: batchAccounts(batch),
          duplicates: batch.rows_duplicate, skipped: batch.rows_skipped })),
      balanceNotes(balanceChecks.filter((check) => Object.values(batch.accounts ?? { one: batch.account_id })
        .includes(check.account_id)), true),
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
    const [{ items }, { items: migrations }] = await Promise.all([api("/ledger/imports?limit=20"),
      api("/ledger/histories?limit=10")]);
    const histories = migrations.map((migration) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { class: "block", text: `${migration.filename} · ${migration.source}` }),
        h("span", { class: "muted", text: `${formatDateTime(migration.created_at)} · `
          + `${STATUSES[migration.status] ? t(STATUSES[migration.status]) : migration.status} · ${migration.summary}`
          + (migration.error ? ` · ${migration.error}` : "") })),
      migration.status === "imported" || migration.status === "failed"
        ? h("button", { type: "button", class: "small", onclick: () => undoHistory(migration),
          "aria-label": t("imports.undoNamed", { name: migration.filename }) }, t("imports.undo")) : null));
    if (!items.length && !histories.length) {
      replace(history, h("li", { class: "empty", text: t("imports.nothing") }));
      return;
    }
    replace(history, ...histories, ...items.map((batch) => h("li", { class: "row-item" },
      h("span", { class: "grow" },
        h("strong", { class: "block", text: batch.filename }),
        h("span", { class: "muted", text: `${batchAccounts(batch)} · ${formatDateTime(batch.created_at)} · `
          + `${STATUSES[batch.status] ? t(STATUSES[batch.status]) : batch.status}`
          + `${batch.status === "importing" ? ` ${batch.rows_done}/${batch.rows_total}` : ""}`
          + ` · ${t("imports.counts", { new: batch.rows_new, duplicates: batch.rows_duplicate })}`
          + (batch.error ? ` · ${batch.error}` : "") })),
      batch.status === "imported"
        ? h("button", { type: "button", class: "small", onclick: () => undoBatch(batch) }, t("imports.undo")) : null,
      batch.status === "failed"
        ? h("button", { type: "button", class: "small", onclick: () => resume(batch) }, t("imports.goOn")) : null)));
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
    const run = (action) => () => attempt(exportStatus, action);
    const restoreFile = h("input", { type: "file", accept: ".json,application/json" });
    const restore = h("form", { class: "stack" },
      field(t("imports.restoreFile"), restoreFile, t("imports.restoreHint")),
      h("button", { type: "submit" }, t("imports.restore")));
    onSubmit(restore, exportStatus, async () => {
      if (!restoreFile.files.length) throw new Error(t("imports.chooseRestore"));
      const body = new FormData();
      body.append("file", restoreFile.files[0]);
      const result = await (await fileRequest("/ledger/imports/ledger", { method: "POST", form: body })).json();
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
