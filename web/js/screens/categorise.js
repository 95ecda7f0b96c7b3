// #/categorise — categorise the uncategorised in bulk: the household's uncategorised expenses and incomes
// (within an account, dates, a part of the payee), each with the category its rules or learned
// categoriser propose and how sure it is. Rows at or above the household's threshold are ticked; the
// person corrects any row's category, ticks or unticks, and applies the ticked ones as one change, which
// one "Undo" takes back (rows changed since keep what they have).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate } from "../format.js";
import { t } from "../i18n.js";
import { amountNode } from "../widgets/amount.js";
import { categoryChoices, loadBook } from "../widgets/book.js";
import { fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

const SHOWN = 200;

export async function renderCategorise(container) {
  const status = statusLine();
  container.append(ledgerNav("/categorise"), h("h1", { text: t("categorise.title") }),
    h("p", { class: "muted", text: t("categorise.intro") }), status.element);
  let book;
  try {
    book = await loadBook();
  } catch (error) {
    status.error(error.message);
    return undefined;
  }

  const account = h("select", { name: "account_id" });
  fillSelect(account, book.accounts.map((a) => ({ value: a.id, label: a.name })), t("transactions.allAccounts"));
  const from = h("input", { type: "date", name: "from_date" });
  const to = h("input", { type: "date", name: "to_date" });
  const payee = h("input", { type: "search", name: "payee", maxlength: 200, autocomplete: "off" });
  const filters = h("form", { class: "stack", "aria-label": t("categorise.filters") },
    h("div", { class: "row" }, field(t("transactions.account"), account), field(t("categorise.payee"), payee)),
    h("div", { class: "row" }, field(t("transactions.from"), from), field(t("transactions.to"), to)),
    h("button", { type: "submit" }, t("categorise.show")));
  const summary = h("div", { "aria-live": "polite" });
  const table = h("div", { class: "table-scroll" });
  const apply = h("button", { type: "button", class: "primary", disabled: true });
  const result = statusLine();
  const undo = h("button", { type: "button", hidden: true }, t("categorise.undo"));
  container.append(h("section", { class: "card" }, filters),
    h("section", { class: "card", "aria-label": t("categorise.proposals") }, summary, table,
      h("div", { class: "row" }, apply, undo), result.element));

  let rows = []; // { proposal, tick, select }
  let lastChange = null;

  function ticked() {
    return rows.filter((r) => r.tick.checked && r.select.value);
  }

  function countApply() {
    const count = ticked().length;
    apply.textContent = t("categorise.apply", { count });
    apply.disabled = count === 0;
  }

  function proposalRow(proposal, pct) {
    const best = proposal.suggestions[0];
    const select = h("select", { "aria-label": t("categorise.categoryOf", { payee: proposal.payee || "—" }) });
    fillSelect(select, categoryChoices(book, proposal.kind), t("categorise.none"));
    select.value = best?.category_id ?? "";
    if (select.selectedIndex < 0) select.value = ""; // a category no longer usable
    const sure = Boolean(best && select.value && Math.round(best.confidence * 100) >= pct);
    const tick = h("input", { type: "checkbox", checked: sure,
      "aria-label": t("categorise.tick", { payee: proposal.payee || "—" }) });
    select.addEventListener("change", () => {
      tick.checked = Boolean(select.value); // choosing a category is choosing to apply it
      countApply();
    });
    tick.addEventListener("change", countApply);
    const hint = best ? h("small", { class: "muted block" }, t("imports.suggestion", {
      category: best.category_name, confidence: Math.round(best.confidence * 100),
      source: t(`imports.bySource.${best.source}`) })) : null;
    const signed = proposal.kind === "income" ? proposal.amount_minor : -proposal.amount_minor;
    rows.push({ proposal, tick, select });
    return h("tr", {},
      h("td", {}, tick),
      h("td", {}, formatDate(proposal.booked_on)),
      h("td", {}, h("span", { class: "block", text: proposal.payee }),
        proposal.note ? h("small", { class: "muted block", text: proposal.note }) : null,
        h("small", { class: "muted block", text: book.account.get(proposal.account_id)?.name ?? "" })),
      h("td", { class: "amount" }, amountNode(signed, proposal.currency)),
      h("td", {}, select, hint));
  }

  async function load() {
    const p = new URLSearchParams({ limit: String(SHOWN) });
    for (const [name, input] of [["account_id", account], ["from_date", from], ["to_date", to], ["payee", payee]]) {
      if (input.value.trim()) p.set(name, input.value.trim());
    }
    const found = await api(`/ledger/categorisations/proposals?${p}`);
    rows = [];
    if (!found.items.length) {
      replace(summary, h("p", { class: "empty", text: t("categorise.nothing") }));
      replace(table);
    } else {
      replace(summary, h("p", {}, t("categorise.summary", { count: found.uncategorised, shown: found.items.length })),
        h("p", { class: "hint" }, t("categorise.ticked", { pct: found.accept_above_pct })));
      replace(table, h("table", {},
        h("thead", {}, h("tr", {}, ["", t("imports.date"), t("imports.payee"), t("imports.amount"),
          t("imports.category")].map((heading) => h("th", { scope: "col" }, heading)))),
        h("tbody", {}, found.items.map((proposal) => proposalRow(proposal, found.accept_above_pct)))));
    }
    countApply();
  }

  apply.addEventListener("click", async () => {
    const items = ticked().map((r) => ({ transaction_id: r.proposal.transaction_id, category_id: r.select.value,
      expected_version: r.proposal.version }));
    apply.disabled = true;
    result.clear();
    try {
      const change = await api("/ledger/categorisations", { method: "POST", body: { items } });
      lastChange = change.id;
      undo.hidden = false;
      result.ok(t("categorise.applied", { count: change.changed }));
      await load();
    } catch (error) {
      result.error(error.message);
      countApply();
    }
  });

  undo.addEventListener("click", async () => {
    undo.disabled = true;
    try {
      const undone = await api(`/ledger/transactions/bulk/${lastChange}/undo`, { method: "POST" });
      undo.hidden = true;
      result.ok(undone.kept.length ? t("categorise.undoneKept", { count: undone.undone, kept: undone.kept.length })
        : t("categorise.undone", { count: undone.undone }));
      await load();
    } catch (error) {
      result.error(error.message);
    } finally {
      undo.disabled = false;
    }
  });

  onSubmit(filters, status, load);
  await load().catch((error) => status.error(error.message));
  return undefined;
}
