// #/budgets — every budget of a period at a glance: a bar per budget (budgetbar.js), spent of available,
// what is left, the trend against the same day of the period before (the whole of it once a period is
// over), what rollover carried; totals per currency and "available to budget" for the month, on the
// income the household chose to count (this month's so far or last month's), with how it was worked out.
// ?month=YYYY-MM (the notifier's alert mails link here) or ?on=YYYY-MM-DD picks the period. "Whose share"
// shows, under each monthly budget, what the month's shared expenses of its categories cost one member
// (the ledger's GET /shared/spending: parts of shared expenses, whoever paid).

import { api } from "../api.js";
import { field, h, replace, statusLine } from "../dom.js";
import { formatMonth, thisMonth } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney } from "../money.js";
import { param } from "../router.js";
import { budgetRow, memberShare } from "../widgets/budgetbar.js";

function shiftMonth(month, by) {
  const [year, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(year, m - 1 + by, 1));
  return d.toISOString().slice(0, 7);
}

/** "Available to budget" and how it was worked out, with the household's choice of income to count. */
function availableLine(a, onBasis) {
  const money = (minor) => formatMoney(minor, a.currency);
  const lastMonth = a.basis === "last_month";
  const detail = t(lastMonth ? "budgets.availableLastMonth" : "budgets.availableThisMonth", {
    income: money(a.income_minor), budgeted: money(a.budgeted_minor),
    other: money(lastMonth ? a.income_this_month_minor : a.income_last_month_minor) });
  const basis = h("select", { name: "income_basis", onchange: (event) => onBasis(event.target.value) },
    ["this_month", "last_month"].map((code) => h("option", { value: code, selected: code === a.basis },
      t(`budgets.basis.${code}`))));
  return h("div", { class: "available stack" },
    h("p", {}, h("strong", { text: t("budgets.availableToBudget") }),
      h("span", { class: `amount ${a.available_minor < 0 ? "negative" : ""}`, text: money(a.available_minor) })),
    h("p", { class: "muted", text: detail }),
    field(t("budgets.incomeBasis"), basis));
}

export async function renderBudgets(container) {
  let month = param("month") ?? thisMonth();
  const status = statusLine();
  const title = h("h1", {});
  const list = h("ul", { class: "rows budgets" });
  const totals = h("div", { class: "stack" });
  const prev = h("button", { type: "button", class: "small", text: t("budgets.previous") });
  const next = h("button", { type: "button", class: "small", text: t("budgets.next") });
  const whose = h("select", { name: "member" }, h("option", { value: "", text: t("budgets.wholeHousehold") }));
  container.append(
    title,
    h("nav", { class: "row", "aria-label": t("budgets.pages") },
      h("a", { href: "#/budget", text: t("budgets.newBudget") }),
      h("a", { href: "#/goals", text: t("budgets.goals") })),
    h("div", { class: "row", role: "group", "aria-label": t("budgets.month") }, prev, next),
    field(t("budgets.whoseShare"), whose),
    status.element,
    h("section", { class: "card stack", "aria-label": t("budgets.list") }, list),
    h("section", { class: "card stack", "aria-label": t("budgets.totals") }, totals));

  async function load() {
    status.clear();
    title.textContent = t("budgets.title", { month: formatMonth(month) });
    try {
      const overview = await api(`/budget/budgets/overview?month=${month}`);
      const extra = await shareNotes(overview.items);
      replace(list, overview.items.length ? overview.items.map((b) => budgetRow(b, { extra: extra(b) }))
        : h("li", { class: "empty", text: t("budgets.empty") }));
      const lines = overview.totals.map((sum) => h("p", { text: t("budgets.totalLine", {
        spent: formatMoney(sum.spent_minor, sum.currency), available: formatMoney(sum.available_minor, sum.currency),
        left: formatMoney(sum.remaining_minor, sum.currency) }) }));
      let available = null;
      try {
        available = availableLine(await api(`/budget/budgets/available?month=${month}`), chooseBasis);
      } catch {
        available = null; // no currency known yet: nothing to say
      }
      replace(totals, h("h2", { text: t("budgets.totals") }), lines, available);
    } catch (error) {
      status.error(error.message);
    }
  }

  /** For the member chosen, a note per budget: their share of its spending this month. */
  async function shareNotes(budgets) {
    const member = whose.value;
    if (!member || !budgets.length) return () => null;
    const name = whose.selectedOptions[0].textContent;
    const [{ items: shares }, { items: categories }] = await Promise.all([
      api(`/ledger/shared/spending?user_id=${member}&month=${month}`), api("/ledger/categories")]);
    return (b) => {
      const share = memberShare(b, shares, categories);
      return share === null ? t("budgets.shareNotMonthly", { name })
        : t("budgets.memberShare", { name, money: formatMoney(share, b.currency) });
    };
  }

  async function chooseBasis(basis) {
    try {
      await api("/budget/settings", { method: "PUT", body: { income_basis: basis } });
      await load();
      status.ok(t("budgets.basisSaved"));
    } catch (error) {
      status.error(error.message);
    }
  }

  whose.addEventListener("change", load);
  let members = [];
  try {
    ({ members } = await api("/auth/household/members"));
  } catch {
    members = []; // no one to choose: the household's figures alone
  }
  if (members.length > 1) {
    whose.append(...members.map((m) => h("option", { value: m.user_id, text: m.display_name })));
  } else {
    whose.closest(".field")?.setAttribute("hidden", "");
  }
  prev.addEventListener("click", () => { month = shiftMonth(month, -1); load(); });
  next.addEventListener("click", () => { month = shiftMonth(month, 1); load(); });
  await load();
}
