// #/transactions — search the ledger: a query box (`groceries amount>20 after:2026-01-01 tag:trip`) and
// filters, newest first, a page at a time (keyset cursor), with the totals of everything that matches.
// A keyboard-first register: j/k move between rows, x (or a click; shift-click for a range) selects,
// shift+j/k extend the selection, Enter edits the row in place and Escape cancels; the selected rows (or
// every row the search matches, across pages) change at once through the bar above the list, and one
// undo takes that change back.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { param } from "../router.js";
import { registerKey, Selection } from "../selection.js";
import { amountNode, signedAmount } from "../widgets/amount.js";
import { categoryChoices, loadBook } from "../widgets/book.js";
import { bulkBar } from "../widgets/bulkbar.js";
import { fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

const PAGE = 50;
const KINDS = [["expense", "transactions.kinds.expense"], ["income", "transactions.kinds.income"],
  ["transfer", "transactions.kinds.transfer"]];

export async function renderTransactions(container) {
  const status = statusLine();
  container.append(ledgerNav("/transactions"), h("h1", { text: t("transactions.title") }), status.element);
  let book;
  try {
    book = await loadBook();
  } catch (error) {
    status.error(error.message);
    return;
  }

  const q = h("input", { type: "search", name: "q", autocomplete: "off", maxlength: 500,
    placeholder: t("transactions.placeholder"), value: param("q") ?? "" });
  const account = h("select", { name: "account_id" });
  fillSelect(account, book.accounts.map((a) => ({ value: a.id, label: a.name })), t("transactions.allAccounts"));
  account.value = param("account") ?? "";
  const category = h("select", { name: "category_id" });
  fillSelect(category, categoryChoices(book, null), t("transactions.allCategories"));
  const kind = h("select", { name: "kind" });
  fillSelect(kind, KINDS.map(([value, key]) => ({ value, label: t(key) })), t("transactions.everyKind"));
  const from = h("input", { type: "date", name: "from_date" });
  const to = h("input", { type: "date", name: "to_date" });
  const form = h("form", { class: "stack", role: "search", "aria-label": t("transactions.searchLabel") },
    field(t("transactions.search"), q, t("transactions.searchHint")),
    h("div", { class: "row" }, field(t("transactions.account"), account), field(t("transactions.category"), category),
      field(t("transactions.kind"), kind)),
    h("div", { class: "row" }, field(t("transactions.from"), from), field(t("transactions.to"), to)),
    h("button", { type: "submit", class: "primary" }, t("transactions.searchButton")));
  const totals = h("div", { class: "totals", "aria-live": "polite" });
  const keys = h("small", { class: "muted block", id: "register-keys", text: t("transactions.keys") });
  const list = h("ul", { class: "rows register", "aria-label": t("transactions.register"),
    "aria-describedby": "register-keys" });
  const more = h("button", { type: "button", hidden: true }, t("transactions.more"));
  const done = statusLine();
  const selection = new Selection();
  let shown = []; // the transactions listed, in order
  let matching = 0; // how many the search matches, on every page
  const bar = bulkBar(book, {
    change: (body) => bulkChange(body).catch((error) => done.error(error.message)),
    selectEveryMatch: () => { selection.selectEveryMatch(); syncSelection(); },
    clear: () => { selection.clear(); syncSelection(); },
  });
  container.append(h("section", { class: "card" }, form, status.element), bar.element, done.element,
    h("section", { class: "card" }, totals, keys, list, more));

  let cursor = null;
  const ids = () => shown.map((tx) => tx.id);

  function params() {
    const p = new URLSearchParams({ limit: String(PAGE) });
    for (const [name, input] of [["q", q], ["account_id", account], ["category_id", category], ["kind", kind],
      ["from_date", from], ["to_date", to]]) {
      if (input.value.trim()) p.set(name, input.value.trim());
    }
    return p;
  }

  function row(tx) {
    const accountName = book.account.get(tx.account_id)?.name ?? "";
    const kindLabel = { expense: t("transactions.expense"), income: t("transactions.income"),
      transfer: t("transactions.transfer") }[tx.kind] ?? tx.kind;
    const title = tx.payee || tx.category_name || kindLabel;
    const where = tx.kind === "transfer"
      ? `${accountName} → ${book.account.get(tx.counter_account_id)?.name ?? ""}`
      : accountName;
    const what = tx.splits.length ? t("transactions.splitIn", { count: tx.splits.length }) : tx.category_name;
    const state = { cleared: t("transactions.cleared"), reconciled: t("transactions.reconciled") }[tx.status] ?? tx.status;
    const details = [formatDate(tx.booked_on), what, where, tx.tags.map((tag) => `#${tag}`).join(" "),
      tx.status !== "uncleared" ? state : null].filter(Boolean).join(" · ");
    const box = h("input", { type: "checkbox", class: "pick", checked: selection.has(tx.id),
      "aria-label": t("transactions.select", { what: `${title}, ${formatDate(tx.booked_on)}` }) });
    box.addEventListener("click", (event) => {
      const index = shown.findIndex((x) => x.id === tx.id);
      if (event.shiftKey) selection.rangeTo(ids(), index);
      else selection.toggle(ids(), index);
      syncSelection();
    });
    return h("li", { class: "row-item", "data-id": tx.id }, box,
      h("span", { class: "grow" },
        h("a", { href: `#/transaction?id=${encodeURIComponent(tx.id)}` }, h("strong", { text: title })),
        h("small", { class: "muted block", text: details }),
        tx.note ? h("small", { class: "block", text: tx.note }) : null),
      // A transfer between currencies arrives in the receiving account's currency, by its own amount.
      tx.counter_amount_minor && account.value && tx.counter_account_id === account.value
        ? amountNode(tx.counter_amount_minor, book.account.get(tx.counter_account_id)?.currency ?? tx.currency)
        : amountNode(signedAmount(tx, account.value || null), tx.currency, tx.kind === "transfer" && !account.value));
  }

  function showTotals(sets) {
    if (!sets.length) {
      replace(totals, h("p", { class: "empty", text: t("transactions.nothing") }));
      return;
    }
    replace(totals, sets.map((s) => h("p", {}, t("transactions.totals", { count: s.count, currency: s.currency,
      income: formatMoney(s.income_minor, s.currency), spending: formatMoney(s.expense_minor, s.currency),
      transfers: formatMoney(s.transfer_minor, s.currency) }))));
  }

  async function search(first) {
    const p = params();
    if (!first && cursor) p.set("cursor", cursor);
    const [page, sums] = await Promise.all([api(`/ledger/transactions?${p}`),
      first ? api(`/ledger/transactions/totals?${p}`) : null]);
    if (first) {
      shown = page.items;
      selection.clear();
      replace(list, page.items.map(row));
      showTotals(sums.items);
      matching = sums.items.reduce((sum, s) => sum + s.count, 0);
    } else {
      shown = shown.concat(page.items);
      list.append(...page.items.map(row));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    syncSelection();
  }

  function rowAt(index) {
    return list.children[index] ?? null;
  }

  function syncSelection() {
    shown.forEach((tx, index) => {
      const item = rowAt(index);
      const box = item?.querySelector("input.pick");
      if (box) box.checked = selection.has(tx.id);
      item?.classList.toggle("selected", selection.has(tx.id));
    });
    bar.update(selection.everyMatch ? matching : selection.size, matching, selection.everyMatch);
  }

  /** The search as the bulk change takes it (the same filters as the list's). */
  function searchBody() {
    const p = params();
    const body = {};
    for (const name of ["q", "account_id", "category_id", "from_date", "to_date"]) {
      if (p.has(name)) body[name] = p.get(name);
    }
    if (p.has("kind")) body.kind = [p.get("kind")];
    return body;
  }

  async function bulkChange(body) {
    done.clear();
    const target = selection.everyMatch ? { search: searchBody(), expected_count: matching }
      : { ids: selection.ids(ids()) };
    const change = await api("/ledger/transactions/bulk", { method: "POST", body: { ...target, ...body } });
    await search(true);
    const undo = h("button", { type: "button" }, t("transactions.bulk.undo"));
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      try {
        const undone = await api(`/ledger/transactions/bulk/${encodeURIComponent(change.id)}/undo`,
          { method: "POST" });
        await search(true);
        done.ok(undone.kept.length ? t("transactions.bulk.undoneKept", { count: undone.undone,
          kept: undone.kept.length }) : t("transactions.bulk.undone", { count: undone.undone }));
      } catch (error) {
        done.error(error.message);
        undo.disabled = false;
      }
    });
    done.ok(t("transactions.bulk.done", { count: change.changed }));
    done.element.append(" ", undo);
  }

  // --- the keyboard register -----------------------------------------------------------------------------
  function indexOf(node) {
    const item = node?.closest?.("li[data-id]");
    return item ? [...list.children].indexOf(item) : -1;
  }

  function focusRow(index) {
    rowAt(index)?.querySelector("input.pick")?.focus();
  }

  list.addEventListener("keydown", (event) => {
    if (event.target.closest("form")) return; // an editor has its own keys
    const action = registerKey(event);
    if (!action || (action === "toggle" && event.target.matches("input:not(.pick)"))) return;
    const index = indexOf(event.target);
    if (index >= 0) selection.current = index;
    const moves = { down: 1, up: -1, extendDown: 1, extendUp: -1 };
    if (action === "down" || action === "up") {
      focusRow(selection.move(ids(), moves[action]));
    } else if (action === "extendDown" || action === "extendUp") {
      selection.extend(ids(), moves[action]);
      syncSelection();
      focusRow(selection.current);
    } else if (action === "toggle" && index >= 0) {
      selection.toggle(ids(), index);
      syncSelection();
    } else if (action === "edit" && index >= 0) {
      editInPlace(index);
    } else {
      return;
    }
    event.preventDefault();
  });

  /** Enter on a row: its payee and category become fields; Enter saves, Escape puts the row back. */
  function editInPlace(index) {
    const tx = shown[index];
    const item = rowAt(index);
    const payee = h("input", { type: "text", name: "payee", maxlength: 200, value: tx.payee });
    const category = h("select", { name: "category_id" });
    fillSelect(category, categoryChoices(book, tx.kind === "transfer" ? "none" : tx.kind),
      t("transactions.noCategory"));
    category.value = tx.category_id ?? "";
    const problem = statusLine();
    const editor = h("form", { class: "row grow", "aria-label": t("transactions.editRow") },
      field(t("transactions.payee"), payee),
      tx.kind === "transfer" || tx.splits.length ? null : field(t("transactions.category"), category),
      h("button", { type: "submit", class: "primary" }, t("transactions.save")),
      h("button", { type: "button", onclick: () => putBack(tx) }, t("transactions.cancel")), problem.element);
    const putBack = (current) => {
      shown[index] = current;
      const fresh = row(current);
      item.replaceWith(fresh);
      syncSelection();
      focusRow(index);
    };
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        putBack(tx);
      }
    });
    onSubmit(editor, problem, async () => {
      const changes = { expected_version: tx.version, payee: payee.value.trim() };
      if (editor.contains(category)) changes.category_id = category.value || null;
      putBack(await api(`/ledger/transactions/${encodeURIComponent(tx.id)}`, { method: "PATCH",
        body: changes }));
    });
    replace(item, editor);
    payee.focus();
    payee.select();
  }

  onSubmit(form, status, () => search(true));
  more.addEventListener("click", () => {
    more.disabled = true;
    search(false).catch((error) => status.error(error.message)).finally(() => { more.disabled = false; });
  });
  await search(true).catch((error) => status.error(error.message));
  return undefined;
}
