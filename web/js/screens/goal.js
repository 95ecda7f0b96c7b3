// #/goal?id=… — one goal: progress, the amount needed each month, where the recent pace leads, a chart of
// what was saved over time against the target (or, paying off a debt, of what is still owed going to zero)
// with its table, contributions by hand (or the account it follows), changes.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { param } from "../router.js";
import { baseOptions, CHART_COLORS, chartFigure, major } from "../widgets/chart.js";
import { goalRow } from "../widgets/goalrow.js";

export async function renderGoal(container, { navigate }) {
  const id = param("id") ?? "";
  const status = statusLine();
  const heading = h("h1", { text: t("goal.title") });
  const summary = h("ul", { class: "rows" });
  const chart = h("div", { class: "stack" });
  const money = h("div", { class: "stack" });
  const editor = h("div", { class: "stack" });
  const figures = [];
  const chartHeading = h("h2", { id: "goal-chart", text: t("goal.chart") });
  const moneyHeading = h("h2", { id: "goal-money", text: t("goal.contributions") });
  container.append(heading, h("p", {}, h("a", { href: "#/goals", text: t("goal.all") })), status.element,
    h("section", { class: "card stack", "aria-label": t("goal.progress") }, summary),
    h("section", { class: "card stack", "aria-labelledby": "goal-chart" }, chartHeading, chart),
    h("section", { class: "card stack", "aria-labelledby": "goal-money" }, moneyHeading, money),
    h("section", { class: "card stack", "aria-labelledby": "goal-edit" }, h("h2", { id: "goal-edit", text: t("goal.change") }), editor));

  function contributions(g) {
    if (g.kind === "debt") {
      return [h("p", { text: g.account_name ? t("goal.paysOff", { account: g.account_name }) : t("goal.paysOffItsAccount") })];
    }
    if (g.account_id) {
      return [h("p", { text: g.account_name ? t("goal.follows", { account: g.account_name }) : t("goal.followsItsAccount") })];
    }
    const amount = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
    const day = h("input", { type: "date", value: today(), max: today() });
    const note = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
    const out = h("input", { type: "checkbox" });
    const formStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": t("goal.addContribution") },
      h("div", { class: "row" }, field(t("goal.amount", { currency: g.currency }), amount), field(t("goal.day"), day),
        field(t("goal.note"), note)),
      h("label", { class: "check" }, out, ` ${t("goal.takeOut")}`),
      h("button", { type: "submit", class: "primary" }, t("goal.add")), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const parsed = parseAmount(amount.value, minorDigits(g.currency));
      if (!parsed.ok) return formStatus.error(t("goal.amountError", { error: parsed.error }));
      await api(`/budget/goals/${encodeURIComponent(id)}/contributions`, { method: "POST",
        body: { amount_minor: out.checked ? -parsed.minor : parsed.minor, day: day.value, note: note.value } });
      await load();
      return undefined;
    });
    const rows = g.contributions.slice().reverse().map((c) => h("li", { class: "row-item" },
      h("span", { class: "grow", text: `${formatDate(c.day)}${c.note ? ` · ${c.note}` : ""}` }),
      h("span", { class: `amount ${c.amount_minor < 0 ? "negative" : "positive"}`, text: formatMoney(c.amount_minor, g.currency) })));
    return [form, h("ul", { class: "rows" }, rows)];
  }

  function showEditor(g) {
    const name = h("input", { type: "text", required: true, maxlength: 100, value: g.name });
    const target = h("input", { type: "text", inputmode: "decimal", required: true,
      value: toDecimalString(g.target_minor, minorDigits(g.currency)) });
    const date = h("input", { type: "date", value: g.target_date ?? "" });
    const formStatus = statusLine();
    // A debt goal's target is the debt it started with: only its name and date change.
    const debt = g.kind === "debt";
    const form = h("form", { class: "stack", "aria-label": t("goal.changeTitle") },
      h("div", { class: "row" }, field(t("goal.name"), name),
        debt ? null : field(t("goal.target", { currency: g.currency }), target), field(t("goal.targetDate"), date)),
      h("button", { type: "submit", class: "primary" }, t("goal.save")), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const body = { name: name.value.trim(), target_date: date.value || null };
      if (!debt) {
        const parsed = parseAmount(target.value, minorDigits(g.currency));
        if (!parsed.ok) return formStatus.error(t("goal.targetError", { error: parsed.error }));
        body.target_minor = parsed.minor;
      }
      await api(`/budget/goals/${encodeURIComponent(id)}`, { method: "PATCH", body });
      await load();
      return undefined;
    });
    const remove = h("button", { type: "button", class: "small", text: t("goal.delete"), onclick: async () => {
      if (!window.confirm(t("goal.deleteConfirm", { name: g.name }))) return;
      try {
        await api(`/budget/goals/${encodeURIComponent(id)}`, { method: "DELETE" });
        navigate("/goals");
      } catch (error) {
        status.error(error.message);
      }
    } });
    replace(editor, form, remove);
  }

  async function load() {
    status.clear();
    let g;
    try {
      g = await api(`/budget/goals/${encodeURIComponent(id)}`);
    } catch (error) {
      status.error(error.message);
      return;
    }
    heading.textContent = g.name;
    replace(summary, goalRow(g, { link: false }));
    figures.forEach((f) => f.destroy());
    figures.length = 0;
    const labels = g.history.map((p) => formatDate(p.day));
    const fmt = (minor) => formatMoney(minor, g.currency);
    // Paying off a debt, the chart shows what is still owed (the target less what was paid off) going to
    // zero; saving up, what was saved rising to the target.
    const debt = g.kind === "debt";
    chartHeading.textContent = debt ? t("goal.debtChart") : t("goal.chart");
    moneyHeading.textContent = debt ? t("goal.payments") : t("goal.contributions");
    const values = g.history.map((p) => (debt ? g.target_minor - p.saved_minor : p.saved_minor));
    const line = debt ? t("goal.owed") : t("goal.saved");
    const figure = chartFigure({
      title: t(debt ? "goal.debtChartTitle" : "goal.chartTitle", { name: g.name }),
      summary: debt
        ? t("goal.debtChartSummary", { owed: fmt(g.owed_minor ?? 0), target: fmt(g.target_minor) })
        : t("goal.chartSummary", { saved: fmt(g.saved_minor), target: fmt(g.target_minor) }),
      table: { columns: [t("goal.day"), line], rows: values.map((v, i) => [labels[i], fmt(v)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "line",
        data: { labels, datasets: [
          { label: line, data: values.map((v) => major(v, g.currency)), borderColor: CHART_COLORS.line,
            stepped: true, fill: false },
          { label: debt ? t("goal.paidOffLine") : t("goal.targetLine"), data: values.map(() => (debt ? 0 : major(g.target_minor, g.currency))),
            borderColor: CHART_COLORS.income, borderDash: [6, 4], pointRadius: 0 },
        ] },
        options: baseOptions(),
      }),
    });
    figures.push(figure);
    replace(chart, figure.element);
    replace(money, ...contributions(g));
    showEditor(g);
  }

  await load();
  return () => figures.forEach((f) => f.destroy());
}
