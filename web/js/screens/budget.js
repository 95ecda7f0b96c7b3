// #/budget — a new budget (for a category or a group; weekly, every two weeks from a pay day, monthly or
// a pay month starting on day N, quarterly, yearly; rollover; alert thresholds).
// #/budget?id=… — one budget: this period's bar, spent vs budget over the last periods (a chart with its
// table), its amounts over time, and changes from a chosen period on (earlier periods keep theirs).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { param } from "../router.js";
import { budgetRow, periodLabels } from "../widgets/budgetbar.js";
import { baseOptions, CHART_COLORS, chartFigure, major } from "../widgets/chart.js";
import { askAgainWhileEmpty, fillSelect, noCategoriesHint } from "../widgets/inputs.js";

function parseThresholds(text) {
  const values = text.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!values.length || values.some((v) => !Number.isInteger(v) || v < 1 || v > 1000)) return null;
  return [...new Set(values)].sort((a, b) => a - b);
}

function amountField(currency, value = "") {
  return h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off", value,
    placeholder: minorDigits(currency) ? "300.00" : "300" });
}

async function renderNew(container, me, navigate) {
  const status = statusLine();
  const target = h("select", { required: true });
  const noCategories = noCategoriesHint();
  let expense = [];
  function fillTarget() {
    const groups = [...new Set(expense.map((c) => c.group))].sort();
    fillSelect(target, [
      ...expense.map((c) => ({ value: `c:${c.id}`, label: `${c.group} › ${c.name}` })),
      ...groups.map((g) => ({ value: `g:${g}`, label: t("budget.allOf", { group: g }) })),
    ], t("budget.choose"));
    noCategories.hidden = expense.length > 0;
  }
  async function readCategories() {
    const { items } = await api("/ledger/categories");
    expense = items.filter((c) => c.kind === "expense" && !c.archived);
    fillTarget();
  }
  try {
    await readCategories();
  } catch (error) {
    fillTarget();
    status.error(error.message);
  }
  const currency = me.base_currency ?? "EUR";
  const amount = amountField(currency);
  const period = h("select", {});
  fillSelect(period, Object.entries(periodLabels()).map(([value, label]) => ({ value, label })));
  period.value = "month";
  const startDay = h("input", { type: "number", min: 1, max: 28, value: 1, required: true });
  const anchor = h("input", { type: "date", value: today() });
  const rollover = h("input", { type: "checkbox" });
  const thresholds = h("input", { type: "text", value: "80, 100", autocomplete: "off" });
  const pace = h("input", { type: "checkbox", checked: true });
  const startField = field(t("budget.startDay"), startDay, t("budget.startDayHint"));
  const anchorField = field(t("budget.anchor"), anchor, t("budget.anchorHint"));
  function showPeriodFields() {
    startField.hidden = period.value !== "month";
    anchorField.hidden = period.value !== "fortnight";
  }
  period.addEventListener("change", showPeriodFields);
  showPeriodFields();
  const form = h("form", { class: "stack", "aria-label": t("budget.newTitle") },
    field(t("budget.target"), target), noCategories,
    h("div", { class: "row" }, field(t("budget.amount", { currency }), amount), field(t("budget.period"), period)),
    startField, anchorField,
    h("label", { class: "check" }, rollover, ` ${t("budget.rolloverNew")}`),
    field(t("budget.thresholds"), thresholds, t("budget.thresholdsHint")),
    h("label", { class: "check" }, pace, ` ${t("budget.pace")}`),
    h("button", { type: "submit", class: "primary" }, t("budget.create")),
    status.element);
  // Empty (a household made a moment ago, read without the token): asked again when the person comes to it.
  askAgainWhileEmpty(form, () => expense.length === 0, async () => {
    await readCategories();
    if (expense.length) status.clear();
  });
  onSubmit(form, status, async () => {
    const parsed = parseAmount(amount.value, minorDigits(currency));
    if (!parsed.ok) return status.error(t("budget.amountError", { error: parsed.error }));
    const levels = parseThresholds(thresholds.value);
    if (!levels) return status.error(t("budget.thresholdsError"));
    if (!target.value) return status.error(t("budget.chooseTarget"));
    const body = { amount_minor: parsed.minor, currency, period: period.value, rollover: rollover.checked,
      thresholds: levels, pace_alerts: pace.checked };
    if (target.value.startsWith("c:")) body.category_id = target.value.slice(2);
    else body.group = target.value.slice(2);
    if (period.value === "month") body.start_day = Number(startDay.value);
    if (period.value === "fortnight") body.anchor = anchor.value;
    const created = await api("/budget/budgets", { method: "POST", body });
    navigate(`/budget?id=${created.id}`);
    return undefined;
  });
  container.append(h("h1", { text: t("budget.newTitle") }), h("p", {}, h("a", { href: "#/budgets", text: t("budget.all") })),
    h("section", { class: "card" }, form));
}

export async function renderBudget(container, { navigate }) {
  const id = param("id");
  const me = await api("/auth/me").catch(() => ({}));
  if (!id) {
    await renderNew(container, me, navigate);
    return undefined;
  }
  const status = statusLine();
  const heading = h("h1", { text: t("budget.title") });
  const current = h("ul", { class: "rows" });
  const chart = h("div", { class: "stack" });
  const versions = h("ul", { class: "rows" });
  const editor = h("div", { class: "stack" });
  const figures = [];
  container.append(heading, h("p", {}, h("a", { href: "#/budgets", text: t("budget.all") })), status.element,
    h("section", { class: "card stack", "aria-label": t("budget.thisPeriod") }, current),
    h("section", { class: "card stack", "aria-labelledby": "budget-history" },
      h("h2", { id: "budget-history", text: t("budget.history") }), chart),
    h("section", { class: "card stack", "aria-labelledby": "budget-edit" },
      h("h2", { id: "budget-edit", text: t("budget.change") }), editor),
    h("section", { class: "card stack", "aria-labelledby": "budget-versions" },
      h("h2", { id: "budget-versions", text: t("budget.versions") }), versions));

  function showEditor(b, notice = "") {
    const amount = amountField(b.currency, toDecimalString(b.amount_minor, minorDigits(b.currency)));
    const from = h("input", { type: "date", value: today(), required: true });
    const rollover = h("input", { type: "checkbox", checked: b.rollover });
    const thresholds = h("input", { type: "text", value: b.thresholds.join(", "), autocomplete: "off" });
    const editStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": t("budget.changeTitle") },
      h("div", { class: "row" }, field(t("budget.amount", { currency: b.currency }), amount),
        field(t("budget.from"), from, t("budget.fromHint"))),
      h("label", { class: "check" }, rollover, ` ${t("budget.rollover")}`),
      field(t("budget.thresholds"), thresholds),
      h("button", { type: "submit", class: "primary" }, t("budget.save")), editStatus.element);
    onSubmit(form, editStatus, async () => {
      const parsed = parseAmount(amount.value, minorDigits(b.currency));
      if (!parsed.ok) return editStatus.error(t("budget.amountError", { error: parsed.error }));
      const levels = parseThresholds(thresholds.value);
      if (!levels) return editStatus.error(t("budget.thresholdsError"));
      await api(`/budget/budgets/${encodeURIComponent(id)}`, { method: "PATCH", body: {
        amount_minor: parsed.minor, rollover: rollover.checked, thresholds: levels, effective_from: from.value } });
      await load(t("budget.saved")); // the form is drawn anew with the new figures: the notice goes with it
      return undefined;
    });
    const remove = h("button", { type: "button", class: "small", text: t("budget.remove"),
      onclick: async () => {
        if (!window.confirm(t("budget.removeConfirm", { name: b.category_name }))) return;
        try {
          await api(`/budget/budgets/${encodeURIComponent(id)}`, { method: "DELETE" });
          navigate("/budgets");
        } catch (error) {
          status.error(error.message);
        }
      } });
    replace(editor, form, remove);
    if (notice) editStatus.ok(notice);
  }

  async function load(notice = "") {
    status.clear();
    let b;
    try {
      b = await api(`/budget/budgets/${encodeURIComponent(id)}`);
    } catch (error) {
      status.error(error.message);
      return;
    }
    heading.textContent = `${b.category_name} · ${periodLabels()[b.period_kind]}`;
    replace(current, budgetRow(b, { link: false }),
      b.projected_minor !== null && b.projected_minor > b.available_minor
        ? h("li", { class: "muted", text: t("budget.projection", {
          money: formatMoney(b.projected_minor, b.currency), date: formatDate(b.period_end) }) })
        : null);
    figures.forEach((f) => f.destroy());
    figures.length = 0;
    const labels = b.history.map((p) => formatDate(p.period_start));
    const figure = chartFigure({
      title: t("budget.chartTitle", { name: b.category_name }),
      summary: t("budget.chartSummary", { count: b.history.length, percent: b.percent }),
      table: { columns: [t("budget.colPeriod"), t("budget.colBudget"), t("budget.colSpent")], rows: b.history.map((p, i) => [labels[i],
        formatMoney(p.available_minor, b.currency), formatMoney(p.spent_minor, b.currency)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "bar",
        data: { labels, datasets: [
          { label: t("budget.colBudget"), data: b.history.map((p) => major(p.available_minor, b.currency)), backgroundColor: CHART_COLORS.band },
          { label: t("budget.colSpent"), data: b.history.map((p) => major(p.spent_minor, b.currency)), backgroundColor: CHART_COLORS.expense },
        ] },
        options: baseOptions(),
      }),
    });
    figures.push(figure);
    replace(chart, figure.element);
    replace(versions, b.versions.map((v) => {
      const values = { date: formatDate(v.effective_from), money: formatMoney(v.amount_minor, b.currency) };
      return h("li", { text: v.rollover ? t("budget.versionRollover", values) : t("budget.version", values) });
    }));
    showEditor(b, notice);
  }

  await load();
  return () => figures.forEach((f) => f.destroy());
}
