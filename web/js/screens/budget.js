// #/budget — a new budget (for a category or a group; weekly, every two weeks from a pay day, monthly or
// a pay month starting on day N, quarterly, yearly; rollover; alert thresholds).
// #/budget?id=… — one budget: this period's bar, spent vs budget over the last periods (a chart with its
// table), its amounts over time, and changes from a chosen period on (earlier periods keep theirs).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { fillSelect } from "../panels/panel.js";
import { CHART_COLORS, baseOptions, chartFigure, major } from "../panels/report.js";
import { PERIOD_LABELS, budgetRow } from "./budgets.js";
import { hashParams } from "./ledger.js";

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
  const { items: categories } = await api("/ledger/categories");
  const expense = categories.filter((c) => c.kind === "expense" && !c.archived);
  const target = h("select", { required: true });
  const groups = [...new Set(expense.map((c) => c.group))].sort();
  fillSelect(target, [
    ...expense.map((c) => ({ value: `c:${c.id}`, label: `${c.group} › ${c.name}` })),
    ...groups.map((g) => ({ value: `g:${g}`, label: `All of ${g}` })),
  ], "Choose…");
  const currency = me.base_currency ?? "EUR";
  const amount = amountField(currency);
  const period = h("select", {});
  fillSelect(period, Object.entries(PERIOD_LABELS).map(([value, label]) => ({ value, label })));
  period.value = "month";
  const startDay = h("input", { type: "number", min: 1, max: 28, value: 1, required: true });
  const anchor = h("input", { type: "date", value: today() });
  const rollover = h("input", { type: "checkbox" });
  const thresholds = h("input", { type: "text", value: "80, 100", autocomplete: "off" });
  const pace = h("input", { type: "checkbox", checked: true });
  const startField = field("Periods start on day", startDay, "For a pay month: 25 runs from the 25th to the 24th.");
  const anchorField = field("A pay day", anchor, "Every two weeks from this day.");
  function showPeriodFields() {
    startField.hidden = period.value !== "month";
    anchorField.hidden = period.value !== "fortnight";
  }
  period.addEventListener("change", showPeriodFields);
  showPeriodFields();
  const form = h("form", { class: "stack", "aria-label": "New budget" },
    field("Category or group", target),
    h("div", { class: "row" }, field(`Amount (${currency})`, amount), field("Period", period)),
    startField, anchorField,
    h("label", { class: "check" }, rollover, " Roll over: carry what is left (or overspent) into the next period"),
    field("Alert at (percent)", thresholds, "Comma-separated, for example 50, 80, 100."),
    h("label", { class: "check" }, pace, " Warn when spending is on pace to go over"),
    h("button", { type: "submit", class: "primary" }, "Create budget"),
    status.element);
  onSubmit(form, status, async () => {
    const parsed = parseAmount(amount.value, minorDigits(currency));
    if (!parsed.ok) return status.error(`Amount: ${parsed.error}`);
    const levels = parseThresholds(thresholds.value);
    if (!levels) return status.error("Alert thresholds: whole percents from 1 to 1000.");
    if (!target.value) return status.error("Choose a category or a group.");
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
  container.append(h("h1", { text: "New budget" }), h("p", {}, h("a", { href: "#/budgets", text: "‹ All budgets" })),
    h("section", { class: "card" }, form));
}

export async function renderBudget(container, { navigate }) {
  const id = hashParams().get("id");
  const me = await api("/auth/me").catch(() => ({}));
  if (!id) {
    await renderNew(container, me, navigate);
    return undefined;
  }
  const status = statusLine();
  const heading = h("h1", { text: "Budget" });
  const current = h("ul", { class: "rows" });
  const chart = h("div", { class: "stack" });
  const versions = h("ul", { class: "rows" });
  const editor = h("div", { class: "stack" });
  const figures = [];
  container.append(heading, h("p", {}, h("a", { href: "#/budgets", text: "‹ All budgets" })), status.element,
    h("section", { class: "card stack", "aria-label": "This period" }, current),
    h("section", { class: "card stack", "aria-labelledby": "budget-history" },
      h("h2", { id: "budget-history", text: "Spent vs budget" }), chart),
    h("section", { class: "card stack", "aria-labelledby": "budget-edit" },
      h("h2", { id: "budget-edit", text: "Change" }), editor),
    h("section", { class: "card stack", "aria-labelledby": "budget-versions" },
      h("h2", { id: "budget-versions", text: "Amounts over time" }), versions));

  function showEditor(b) {
    const amount = amountField(b.currency, toDecimalString(b.amount_minor, minorDigits(b.currency)));
    const from = h("input", { type: "date", value: today(), required: true });
    const rollover = h("input", { type: "checkbox", checked: b.rollover });
    const thresholds = h("input", { type: "text", value: b.thresholds.join(", "), autocomplete: "off" });
    const editStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": "Change the budget" },
      h("div", { class: "row" }, field(`Amount (${b.currency})`, amount),
        field("From the period containing", from, "Earlier periods keep their amount.")),
      h("label", { class: "check" }, rollover, " Roll over into the next period"),
      field("Alert at (percent)", thresholds),
      h("button", { type: "submit", class: "primary" }, "Save"), editStatus.element);
    onSubmit(form, editStatus, async () => {
      const parsed = parseAmount(amount.value, minorDigits(b.currency));
      if (!parsed.ok) return editStatus.error(`Amount: ${parsed.error}`);
      const levels = parseThresholds(thresholds.value);
      if (!levels) return editStatus.error("Alert thresholds: whole percents from 1 to 1000.");
      await api(`/budget/budgets/${encodeURIComponent(id)}`, { method: "PATCH", body: {
        amount_minor: parsed.minor, rollover: rollover.checked, thresholds: levels, effective_from: from.value } });
      editStatus.ok("Saved.");
      await load();
      return undefined;
    });
    const remove = h("button", { type: "button", class: "small", text: "Remove this budget",
      onclick: async () => {
        if (!window.confirm(`Remove the ${b.category_name} budget?`)) return;
        try {
          await api(`/budget/budgets/${encodeURIComponent(id)}`, { method: "DELETE" });
          navigate("/budgets");
        } catch (error) {
          status.error(error.message);
        }
      } });
    replace(editor, form, remove);
  }

  async function load() {
    status.clear();
    let b;
    try {
      b = await api(`/budget/budgets/${encodeURIComponent(id)}`);
    } catch (error) {
      status.error(error.message);
      return;
    }
    heading.textContent = `${b.category_name} · ${PERIOD_LABELS[b.period_kind]}`;
    replace(current, budgetRow(b, { link: false }),
      b.projected_minor !== null && b.projected_minor > b.available_minor
        ? h("li", { class: "muted", text: `At this pace: ${formatMoney(b.projected_minor, b.currency)} by ${formatDate(b.period_end)}.` })
        : null);
    figures.forEach((f) => f.destroy());
    figures.length = 0;
    const labels = b.history.map((p) => formatDate(p.period_start));
    const figure = chartFigure({
      title: `${b.category_name}: spent vs budget`,
      summary: `${b.history.length} periods; this one ${b.percent}% used.`,
      table: { columns: ["Period", "Budget", "Spent"], rows: b.history.map((p, i) => [labels[i],
        formatMoney(p.available_minor, b.currency), formatMoney(p.spent_minor, b.currency)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "bar",
        data: { labels, datasets: [
          { label: "Budget", data: b.history.map((p) => major(p.available_minor, b.currency)), backgroundColor: CHART_COLORS.band },
          { label: "Spent", data: b.history.map((p) => major(p.spent_minor, b.currency)), backgroundColor: CHART_COLORS.expense },
        ] },
        options: baseOptions(),
      }),
    });
    figures.push(figure);
    replace(chart, figure.element);
    replace(versions, b.versions.map((v) => h("li", { text: `From ${formatDate(v.effective_from)}: `
      + `${formatMoney(v.amount_minor, b.currency)}${v.rollover ? ", rolls over" : ""}` })));
    showEditor(b);
  }

  await load();
  return () => figures.forEach((f) => f.destroy());
}
