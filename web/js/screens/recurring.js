// #/recurring — recurring transactions and bills: what falls due in the coming weeks (a calendar list by
// day, with skip and "paid" for bills), the schedules (cancel), and a form for a new one.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, today } from "../format.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { fillSelect } from "../panels/panel.js";
import { categoryChoices, ledgerNav, loadBook } from "./ledger.js";

const CADENCES = [["monthly", "Monthly"], ["weekly", "Weekly"], ["daily", "Daily"], ["yearly", "Yearly"]];
const STATUS = { upcoming: "upcoming", due: "due (reminder)", posted: "posted", paid: "paid", skipped: "skipped" };

function plusDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function describe(s) {
  const every = s.interval > 1 ? `every ${s.interval} ` : "every ";
  const unit = { daily: "day", weekly: "week", monthly: "month", yearly: "year" }[s.cadence];
  const day = s.cadence === "monthly" && s.day_of_month ? (s.day_of_month === -1 ? " on the last day"
    : ` on day ${s.day_of_month}`) : "";
  const end = s.ends_on ? `, until ${formatDate(s.ends_on)}` : s.count ? `, ${s.count} times` : "";
  return `${every}${unit}${s.interval > 1 ? "s" : ""}${day}${end}`;
}

export async function renderRecurring(container) {
  const status = statusLine();
  const calendar = h("div", { class: "stack", "aria-live": "polite" });
  const schedules = h("ul", { class: "rows" });
  const range = h("select", { "aria-label": "How far ahead" });
  fillSelect(range, [["30", "Next 30 days"], ["60", "Next 60 days"], ["120", "Next 4 months"], ["365", "Next year"]]
    .map(([value, label]) => ({ value, label })));
  range.value = "60";
  container.append(ledgerNav("/recurring"), h("h1", { text: "Recurring & bills" }), status.element,
    h("section", { class: "card stack", "aria-labelledby": "upcoming-title" },
      h("div", { class: "row" }, h("h2", { id: "upcoming-title", text: "Upcoming" }), range), calendar),
    h("section", { class: "card stack", "aria-labelledby": "schedules-title" },
      h("h2", { id: "schedules-title", text: "Schedules" }), schedules));

  const book = await loadBook();
  const money = (minor, currency) => formatMoney(minor, currency);

  async function run(request, message) {
    status.clear();
    try {
      await request();
      status.ok(message);
    } catch (error) {
      status.error(error.message);
    }
    await load().catch((error) => status.error(error.message));
  }

  function occurrence(o) {
    const actions = [];
    if (o.status === "upcoming") {
      actions.push(h("button", { type: "button", class: "small", onclick: () => run(() => api(
        `/ledger/recurring/${o.schedule_id}/skip`, { method: "POST", body: { due_on: o.due_on } }),
      `Skipped ${o.name} of ${formatDate(o.due_on)}.`) }, "Skip"));
    }
    if (o.is_bill && !["paid", "skipped"].includes(o.status)) {
      actions.push(h("button", { type: "button", class: "small", onclick: () => run(() => api(
        `/ledger/recurring/${o.schedule_id}/paid`, { method: "POST", body: { due_on: o.due_on } }),
      `Marked ${o.name} of ${formatDate(o.due_on)} paid.`) }, "Mark paid"));
    }
    const sign = o.kind === "income" ? 1 : -1;
    return h("li", { class: "row", "data-status": o.status },
      h("span", { text: `${o.is_bill ? "Bill: " : ""}${o.name}` }),
      h("span", { class: `amount ${sign < 0 ? "negative" : "positive"}`, text: money(sign * o.amount_minor, o.currency) }),
      h("span", { class: "muted", text: STATUS[o.status] ?? o.status }),
      o.transaction_id ? h("a", { href: `#/transaction?id=${o.transaction_id}` }, "transaction") : null,
      ...actions);
  }

  async function load() {
    const from = today();
    const [{ items }, { items: all }] = await Promise.all([
      api(`/ledger/recurring/upcoming?from_date=${from}&to_date=${plusDays(from, Number(range.value))}`),
      api("/ledger/recurring"),
    ]);
    const days = [...new Set(items.map((o) => o.due_on))];
    replace(calendar, days.length ? days.map((day) => h("div", {},
      h("h3", { text: formatDate(day) }), h("ul", { class: "rows" }, items.filter((o) => o.due_on === day)
        .map(occurrence)))) : h("p", { class: "empty", text: "Nothing falls due in this period." }));
    replace(schedules, all.length ? all.map((s) => h("li", { class: "row" },
      h("strong", { text: s.name }),
      h("span", { text: `${money(s.amount_minor, s.currency)} ${describe(s)}` }),
      h("span", { class: "muted", text: `${book.account.get(s.account_id)?.name ?? "?"} · ${s.auto_post
        ? "posted automatically" : "reminder only"}${s.next_due_on ? ` · next ${formatDate(s.next_due_on)}` : " · done"}` }),
      h("button", { type: "button", class: "small", onclick: () => {
        if (window.confirm(`Cancel ${s.name}? Occurrences already posted stay.`)) {
          run(() => api(`/ledger/recurring/${s.id}/cancel`, { method: "POST", body: { expected_version: s.version } }),
            `Cancelled ${s.name}.`);
        }
      } }, `Cancel ${s.name}`)))
      : h("li", { class: "empty", text: "No schedules yet." }));
  }
  range.addEventListener("change", () => load().catch((error) => status.error(error.message)));

  // --- a new schedule ----------------------------------------------------------------------------------
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const account = h("select", { required: true });
  fillSelect(account, book.accounts.filter((a) => !a.archived).map((a) => ({ value: a.id, label: a.name })));
  const kind = h("select", {});
  fillSelect(kind, [{ value: "expense", label: "Expense" }, { value: "income", label: "Income" }]);
  const amount = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const category = h("select", {});
  const fillCategories = () => fillSelect(category, categoryChoices(book, kind.value), "No category");
  fillCategories();
  kind.addEventListener("change", fillCategories);
  const payee = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
  const cadence = h("select", {});
  fillSelect(cadence, CADENCES.map(([value, label]) => ({ value, label })));
  const interval = h("input", { type: "number", min: 1, max: 366, value: 1 });
  const dayOfMonth = h("select", {});
  fillSelect(dayOfMonth, [{ value: "", label: "Same day as the start" }, { value: "-1", label: "Last day" },
    ...Array.from({ length: 31 }, (_, i) => ({ value: String(i + 1), label: `Day ${i + 1}` }))]);
  const startsOn = h("input", { type: "date", required: true, value: today() });
  const endsOn = h("input", { type: "date" });
  const count = h("input", { type: "number", min: 1, max: 10000 });
  const isBill = h("input", { type: "checkbox" });
  const autoPost = h("input", { type: "checkbox" });
  const remind = h("input", { type: "number", min: 0, max: 60, value: 3 });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": "New recurring transaction" },
    h("h2", { text: "New recurring transaction or bill" }),
    h("div", { class: "row" }, field("Name", name), field("Account", account), field("Kind", kind),
      field("Amount", amount)),
    h("div", { class: "row" }, field("Category", category), field("Payee", payee)),
    h("div", { class: "row" }, field("Repeats", cadence), field("Every", interval, "1 = every day/week/month/year"),
      field("Day of the month", dayOfMonth)),
    h("div", { class: "row" }, field("Starts on", startsOn), field("Ends on (optional)", endsOn),
      field("Or after this many times", count)),
    h("div", { class: "row" }, field("It is a bill", isBill), field("Post automatically when due", autoPost),
      field("Remind days before (bills)", remind)),
    h("button", { type: "submit", class: "primary" }, "Save schedule"), formStatus.element);
  container.append(h("section", { class: "card" }, form));
  onSubmit(form, formStatus, async () => {
    const chosen = book.account.get(account.value);
    if (!chosen) return formStatus.error("Choose an account.");
    const parsed = parseAmount(amount.value, minorDigits(chosen.currency));
    if (!parsed.ok) return formStatus.error(parsed.error);
    const body = { name: name.value.trim(), account_id: chosen.id, kind: kind.value, amount_minor: parsed.minor,
      category_id: category.value || null, payee: payee.value.trim(), cadence: cadence.value,
      interval: Number(interval.value || 1), starts_on: startsOn.value, ends_on: endsOn.value || null,
      count: count.value ? Number(count.value) : null, is_bill: isBill.checked, auto_post: autoPost.checked,
      remind_days_before: Number(remind.value || 0),
      day_of_month: cadence.value === "monthly" && dayOfMonth.value ? Number(dayOfMonth.value) : null };
    const made = await api("/ledger/recurring", { method: "POST", body });
    formStatus.ok(`Saved ${made.name}${made.next_due_on ? `; next on ${formatDate(made.next_due_on)}` : ""}.`);
    name.value = "";
    amount.value = "";
    await load();
    return undefined;
  });
  await load().catch((error) => status.error(error.message));
  return undefined;
}
