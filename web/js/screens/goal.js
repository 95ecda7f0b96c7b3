// #/goal?id=… — one savings goal: progress, the amount needed each month, a chart of what was saved over
// time against the target (with its table), contributions by hand (or the account it follows), changes.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { formatMoney, minorDigits, parseAmount, toDecimalString } from "../money.js";
import { CHART_COLORS, baseOptions, chartFigure, major } from "../panels/report.js";
import { goalRow } from "./goals.js";
import { hashParams } from "./ledger.js";

export async function renderGoal(container, { navigate }) {
  const id = hashParams().get("id") ?? "";
  const status = statusLine();
  const heading = h("h1", { text: "Goal" });
  const summary = h("ul", { class: "rows" });
  const chart = h("div", { class: "stack" });
  const money = h("div", { class: "stack" });
  const editor = h("div", { class: "stack" });
  const figures = [];
  container.append(heading, h("p", {}, h("a", { href: "#/goals", text: "‹ All goals" })), status.element,
    h("section", { class: "card stack", "aria-label": "Progress" }, summary),
    h("section", { class: "card stack", "aria-labelledby": "goal-chart" }, h("h2", { id: "goal-chart", text: "Saved over time" }), chart),
    h("section", { class: "card stack", "aria-labelledby": "goal-money" }, h("h2", { id: "goal-money", text: "Contributions" }), money),
    h("section", { class: "card stack", "aria-labelledby": "goal-edit" }, h("h2", { id: "goal-edit", text: "Change" }), editor));

  function contributions(g) {
    if (g.account_id) {
      return [h("p", { text: `This goal follows the balance of ${g.account_name ?? "its account"}: transfer money there to save.` })];
    }
    const amount = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
    const day = h("input", { type: "date", value: today(), max: today() });
    const note = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
    const out = h("input", { type: "checkbox" });
    const formStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": "Add a contribution" },
      h("div", { class: "row" }, field(`Amount (${g.currency})`, amount), field("Day", day), field("Note", note)),
      h("label", { class: "check" }, out, " Take money out"),
      h("button", { type: "submit", class: "primary" }, "Add"), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const parsed = parseAmount(amount.value, minorDigits(g.currency));
      if (!parsed.ok) return formStatus.error(`Amount: ${parsed.error}`);
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
    const form = h("form", { class: "stack", "aria-label": "Change the goal" },
      h("div", { class: "row" }, field("Name", name), field(`Target (${g.currency})`, target), field("Target date", date)),
      h("button", { type: "submit", class: "primary" }, "Save"), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const parsed = parseAmount(target.value, minorDigits(g.currency));
      if (!parsed.ok) return formStatus.error(`Target: ${parsed.error}`);
      await api(`/budget/goals/${encodeURIComponent(id)}`, { method: "PATCH",
        body: { name: name.value.trim(), target_minor: parsed.minor, target_date: date.value || null } });
      await load();
      return undefined;
    });
    const remove = h("button", { type: "button", class: "small", text: "Delete this goal", onclick: async () => {
      if (!window.confirm(`Delete the goal ${g.name}?`)) return;
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
    const figure = chartFigure({
      title: `${g.name}: saved over time`,
      summary: `${formatMoney(g.saved_minor, g.currency)} of ${formatMoney(g.target_minor, g.currency)} saved.`,
      table: { columns: ["Day", "Saved"], rows: g.history.map((p, i) => [labels[i], formatMoney(p.saved_minor, g.currency)]) },
      build: (Chart, canvas) => new Chart(canvas, {
        type: "line",
        data: { labels, datasets: [
          { label: "Saved", data: g.history.map((p) => major(p.saved_minor, g.currency)), borderColor: CHART_COLORS.line,
            stepped: true, fill: false },
          { label: "Target", data: g.history.map(() => major(g.target_minor, g.currency)), borderColor: CHART_COLORS.income,
            borderDash: [6, 4], pointRadius: 0 },
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
