// The "add expense / income" form, built to take a few seconds on a phone: the amount comes first (and
// gets the focus from the "n" shortcut or the app's "Add an expense" shortcut), today is the date, the
// payees used lately are one tap away, a known payee brings its last kind and account along, and as the
// payee is typed the ledger suggests a category (its rules, then the household's learned categoriser),
// shown with its confidence and chosen only when it reaches the household's threshold. Offline, or when
// the connection drops while sending, the entry waits in the outbox (offline.js) and is sent once when the
// network is back.

import { ApiError, api } from "../api.js";
import { field, h, onSubmit, replace, statusLine, uid } from "../dom.js";
import { formatNumber, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { OUTBOX_EVENT, isOnline, newId, pendingWrites, queueTransaction, syncOutbox } from "../offline.js";
import { bestSuggestion, lastUseOf, latestOnly, recentPayees } from "../suggest.js";
import { panel } from "./panel.js";
import { categoryOptions, fillSelect } from "../widgets/inputs.js";

const HISTORY = 100; // transactions read for the payees used lately, and the kind and account each went with
const SUGGEST_DELAY_MS = 150; // typing rests this long before the ledger is asked for a category

export function entryPanel(ctx) {
  const { element, body } = panel(t("entry.title"), { className: "entry" });

  const kindName = uid("kind");
  const expense = h("input", { type: "radio", name: kindName, value: "expense", checked: true });
  const income = h("input", { type: "radio", name: kindName, value: "income" });
  const kind = h("fieldset", { class: "segmented" },
    h("legend", { text: t("entry.type") }),
    h("label", {}, expense, ` ${t("entry.expense")}`),
    h("label", {}, income, ` ${t("entry.income")}`),
  );
  const amount = h("input", { type: "text", name: "amount", inputmode: "decimal", required: true,
    autocomplete: "off", placeholder: "12.50", class: "amount-input", enterkeyhint: "done" });
  const account = h("select", { name: "account", required: true });
  const category = h("select", { name: "category" });
  const payeesId = uid("payees");
  const payee = h("input", { type: "text", name: "payee", maxlength: 200, autocomplete: "off", list: payeesId });
  const payeeList = h("datalist", { id: payeesId });
  const chips = h("div", { class: "chips", role: "group", "aria-label": t("entry.recentPayees") });
  const suggestion = h("small", { class: "hint suggestion block", "aria-live": "polite" });
  const bookedOn = h("input", { type: "date", name: "booked_on", required: true, value: today() });
  const status = statusLine();
  const submit = h("button", { type: "submit", class: "primary" }, t("entry.add"));
  const waiting = h("ul", { class: "rows waiting", "aria-label": t("entry.waiting") });

  const form = h("form", { class: "stack", "aria-label": t("entry.title") },
    field(t("entry.amount"), amount),
    kind,
    h("div", { class: "row" }, field(t("entry.payee"), payee, t("entry.optional")), field(t("entry.category"),
      category)),
    payeeList, chips, suggestion,
    h("div", { class: "row" }, field(t("entry.account"), account), field(t("entry.date"), bookedOn)),
    submit,
    status.element,
    waiting,
  );

  let history = [];
  let categoryChosen = false; // a category picked by hand is never overwritten by a suggestion
  let payeeSeen = ""; // the payee whose last kind and account were taken over
  const lookup = latestOnly((params, signal) => api(`/ledger/categories/suggest?${new URLSearchParams(params)}`,
    { signal }), showSuggestion, SUGGEST_DELAY_MS);

  const selectedKind = () => (income.checked ? "income" : "expense");

  function sync() {
    fillSelect(account, ctx.accounts.map((a) => ({ value: a.id, label: `${a.name} (${a.currency})` })));
    fillSelect(category, categoryOptions(ctx.categories, selectedKind()), t("entry.noCategory"));
    const chosen = ctx.accounts.find((a) => a.id === account.value);
    const digits = chosen ? minorDigits(chosen.currency) : 2;
    amount.placeholder = formatNumber(digits === 0 ? 1200 : 12.5, { minimumFractionDigits: digits, useGrouping: false });
    submit.disabled = ctx.accounts.length === 0;
    submit.title = ctx.accounts.length === 0 ? t("entry.openAccountFirst") : "";
  }

  function renderPayees() {
    const names = recentPayees(history);
    replace(payeeList, names.map((name) => h("option", { value: name })));
    replace(chips, names.slice(0, 5).map((name) => h("button", { type: "button", class: "chip",
      onclick: () => { payee.value = name; suggest(); amount.value ? submit.focus() : amount.focus(); } }, name)));
    chips.hidden = names.length === 0;
  }

  /** A known payee's last kind and account, unless the person already chose a category. */
  function takeLastUse(name) {
    const last = lastUseOf(history, name);
    if (!last || categoryChosen) return;
    if (last.kind !== selectedKind()) {
      (last.kind === "income" ? income : expense).checked = true;
      sync();
    }
    if (ctx.accounts.some((a) => a.id === last.account_id)) account.value = last.account_id;
  }

  /** Asks the ledger about what is typed so far (it needs a payee, an amount and the account). */
  function suggest() {
    const name = payee.value.trim();
    if (name.toLocaleLowerCase() !== payeeSeen) {
      payeeSeen = name.toLocaleLowerCase();
      takeLastUse(name);
    }
    const chosen = ctx.accounts.find((a) => a.id === account.value);
    const parsed = chosen ? parseAmount(amount.value, minorDigits(chosen.currency)) : { ok: false };
    if (name.length < 2 || !parsed.ok) {
      lookup.ask(null);
      return;
    }
    lookup.ask({ account_id: chosen.id, amount_minor: String(selectedKind() === "income" ? parsed.minor : -parsed.minor),
      payee: name, booked_on: bookedOn.value || today() });
  }

  function showSuggestion(answer) {
    const best = bestSuggestion(answer);
    const offered = best && [...category.options].some((option) => option.value === best.category_id) ? best : null;
    if (!categoryChosen) category.value = offered?.preselect ? offered.category_id : "";
    if (!offered) {
      replace(suggestion);
      return;
    }
    const text = t(offered.preselect ? "entry.suggested" : "entry.perhaps", { category: offered.category_name,
      confidence: Math.round(offered.confidence * 100), source: t(`imports.bySource.${offered.source}`) });
    const take = category.value === offered.category_id ? null : h("button", { type: "button", class: "link",
      onclick: () => {
        category.value = offered.category_id;
        categoryChosen = true;
        replace(suggestion, text);
      } }, t("entry.useSuggestion"));
    replace(suggestion, text, take ? " " : null, take);
  }

  async function renderWaiting() {
    const entries = await pendingWrites();
    replace(waiting, entries.map((entry) => h("li", { class: "row-item" },
      h("span", { class: "grow", text: entry.label }), h("small", { class: "muted", text: t("entry.notSynced") }))));
    waiting.hidden = entries.length === 0;
  }

  function onOutbox(event) {
    renderWaiting();
    const { synced = 0, failed = [] } = event.detail ?? {};
    if (failed.length) {
      status.error(failed.map((f) => t("entry.syncFailed", { label: f.label, message: f.message })).join(" "));
    } else if (synced) {
      status.ok(t("entry.synced", { count: synced }));
    }
    if (synced) ctx.changed(["accounts", "transactions", "budgets", "report"]);
  }

  expense.addEventListener("change", () => { sync(); suggest(); });
  income.addEventListener("change", () => { sync(); suggest(); });
  payee.addEventListener("input", suggest);
  amount.addEventListener("input", suggest);
  bookedOn.addEventListener("change", suggest);
  category.addEventListener("change", () => { categoryChosen = category.value !== ""; });
  account.addEventListener("change", () => { sync(); suggest(); });
  window.addEventListener(OUTBOX_EVENT, onOutbox);

  function reset() {
    amount.value = "";
    payee.value = "";
    category.value = "";
    categoryChosen = false;
    payeeSeen = "";
    lookup.ask(null);
    amount.focus();
  }

  onSubmit(form, status, async () => {
    const chosen = ctx.accounts.find((a) => a.id === account.value);
    if (!chosen) {
      status.error(t("entry.chooseAccount"));
      return;
    }
    const parsed = parseAmount(amount.value, minorDigits(chosen.currency));
    if (!parsed.ok) {
      status.error(`${t("entry.amount")}: ${parsed.error}`);
      amount.focus();
      return;
    }
    const kindNow = selectedKind();
    const money = formatMoney(parsed.minor, chosen.currency);
    const transaction = {
      id: newId(), // the same id on every attempt: sent twice, it is still recorded once
      account_id: chosen.id,
      kind: kindNow,
      amount_minor: parsed.minor,
      category_id: category.value || null,
      payee: payee.value.trim(),
      booked_on: bookedOn.value || today(),
    };
    const label = [t(`entry.${kindNow}`), money, transaction.payee].filter(Boolean).join(" · ");
    if (!isOnline()) {
      await queueTransaction(transaction, { label });
      status.ok(t("entry.savedOffline", { money }));
      reset();
      return;
    }
    try {
      await api("/ledger/transactions", { method: "POST", body: transaction });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 0) throw error;
      // The connection dropped: it may or may not have arrived; the outbox sends it again, same id.
      await queueTransaction(transaction, { label });
      status.ok(t("entry.savedOffline", { money }));
      reset();
      return;
    }
    status.ok(t(kindNow === "income" ? "entry.addedIncome" : "entry.addedExpense", { money }));
    history = [{ ...transaction, recorded_at: "" }, ...history];
    renderPayees();
    reset();
    await ctx.changed(["accounts", "transactions", "budgets", "report"]);
  });

  replace(body, form);
  renderPayees();
  renderWaiting();
  return {
    element,
    /** The household's accounts and categories arrived (or changed): what was typed meanwhile is asked about. */
    sync() {
      sync();
      suggest();
    },
    async load() {
      try {
        ({ items: history } = await api(`/ledger/transactions?limit=${HISTORY}`));
        renderPayees();
      } catch {
        // Suggestions are a help, not a need: the form works without them.
      }
      renderWaiting();
      syncOutbox();
    },
    focusAmount() {
      amount.focus();
    },
    cleanup() {
      lookup.cancel();
      window.removeEventListener(OUTBOX_EVENT, onOutbox);
    },
  };
}
