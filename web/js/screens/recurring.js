// #/recurring — recurring transactions and bills: what the ledger found recurring in the household's
// history (accept one as a schedule in one click, or dismiss it), what falls due in the coming weeks (a
// calendar list by day, with skip and "paid" for bills), the schedules (cancel), and a form for a new one.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDate, formatMonth, today } from "../format.js";
import { t } from "../i18n.js";
import { formatMoney, minorDigits, parseAmount } from "../money.js";
import { categoryChoices, loadBook } from "../widgets/book.js";
import { fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

const CADENCES = [["monthly", "recurring.cadences.monthly"], ["weekly", "recurring.cadences.weekly"],
  ["daily", "recurring.cadences.daily"], ["yearly", "recurring.cadences.yearly"]];
const STATUS = { upcoming: "recurring.status.upcoming", due: "recurring.status.due", posted: "recurring.status.posted",
  paid: "recurring.status.paid", skipped: "recurring.status.skipped" };
const EVERY = { daily: "recurring.every.daily", weekly: "recurring.every.weekly", monthly: "recurring.every.monthly",
  yearly: "recurring.every.yearly" };

function plusDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function describe(s) {
  const every = EVERY[s.cadence] ? t(EVERY[s.cadence], { count: s.interval }) : s.cadence;
  const day = s.cadence === "monthly" && s.day_of_month ? (s.day_of_month === -1 ? t("recurring.onLastDay")
    : t("recurring.onDay", { day: s.day_of_month })) : "";
  const end = s.ends_on ? t("recurring.until", { day: formatDate(s.ends_on) })
    : s.count ? t("recurring.times", { count: s.count }) : "";
  return `${every}${day}${end}`;
}

export async function renderRecurring(container) {
  const status = statusLine();
  const calendar = h("div", { class: "stack", "aria-live": "polite" });
  const schedules = h("ul", { class: "rows" });
  const found = h("ul", { class: "rows" });
  const range = h("select", { "aria-label": t("recurring.range") });
  fillSelect(range, [["30", t("recurring.next30")], ["60", t("recurring.next60")], ["120", t("recurring.next120")],
    ["365", t("recurring.nextYear")]].map(([value, label]) => ({ value, label })));
  range.value = "60";
  container.append(ledgerNav("/recurring"), h("h1", { text: t("recurring.title") }), status.element,
    h("section", { class: "card stack", "aria-labelledby": "found-title" },
      h("h2", { id: "found-title", text: t("recurring.found.title") }),
      h("p", { class: "muted", text: t("recurring.found.hint") }), found),
    h("section", { class: "card stack", "aria-labelledby": "upcoming-title" },
      h("div", { class: "row" }, h("h2", { id: "upcoming-title", text: t("recurring.upcoming") }), range), calendar),
    h("section", { class: "card stack", "aria-labelledby": "schedules-title" },
      h("h2", { id: "schedules-title", text: t("recurring.schedules") }), schedules));

  const book = await loadBook();
  const money = (minor, currency) => formatMoney(minor, currency);

  async function run(request, message) {
    status.clear();
    try {
      await request();
      if (message) status.ok(message);
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
      t("recurring.skipped", { name: o.name, day: formatDate(o.due_on) })) }, t("recurring.skip")));
    }
    if (o.is_bill && !["paid", "skipped"].includes(o.status)) {
      actions.push(h("button", { type: "button", class: "small", onclick: () => run(() => api(
        `/ledger/recurring/${o.schedule_id}/paid`, { method: "POST", body: { due_on: o.due_on } }),
      t("recurring.markedPaid", { name: o.name, day: formatDate(o.due_on) })) }, t("recurring.markPaid")));
    }
    const sign = o.kind === "income" ? 1 : -1;
    return h("li", { class: "row", "data-status": o.status },
      h("span", { text: o.is_bill ? t("recurring.bill", { name: o.name }) : o.name }),
      h("span", { class: `amount ${sign < 0 ? "negative" : "positive"}`, text: money(sign * o.amount_minor, o.currency) }),
      h("span", { class: "muted", text: STATUS[o.status] ? t(STATUS[o.status]) : o.status }),
      o.transaction_id ? h("a", { href: `#/transaction?id=${o.transaction_id}` }, t("recurring.transaction")) : null,
      ...actions);
  }

  // A series found in the history: what it costs how often, since when, its latest price change.
  function proposal(p) {
    const sign = p.kind === "income" ? 1 : -1;
    const change = p.price_changes.at(-1);
    return h("li", { class: "row", "data-proposal": p.id },
      h("strong", { text: p.name }),
      h("span", { class: `amount ${sign < 0 ? "negative" : "positive"}`,
        text: `${money(sign * p.amount_minor, p.currency)} ${t(`recurring.found.every.${p.period}`)}` }),
      h("span", { class: "muted", text: `${t("recurring.found.since", { count: p.occurrences,
        day: formatDate(p.first_on) })} · ${t("recurring.found.next", { day: formatDate(p.next_on) })}` }),
      change ? h("span", { text: t("recurring.found.priceChange", { old: money(change.old_minor, p.currency),
        new: money(change.new_minor, p.currency), month: formatMonth(change.on.slice(0, 7)) }) }) : null,
      h("button", { type: "button", class: "small primary", onclick: () => run(async () => {
        const made = await api(`/ledger/recurring/proposals/${p.id}/accept`, { method: "POST" });
        status.ok(t("recurring.found.accepted", { name: made.name, day: formatDate(made.next_due_on) }));
      }, null) }, t("recurring.found.accept", { name: p.name })),
      h("button", { type: "button", class: "small", onclick: () => run(() => api(
        `/ledger/recurring/proposals/${p.id}/dismiss`, { method: "POST" }),
      t("recurring.found.dismissed", { name: p.name })) }, t("recurring.found.dismiss", { name: p.name })));
  }

  async function load() {
    const from = today();
    const [{ items }, { items: all }, proposals] = await Promise.all([
      api(`/ledger/recurring/upcoming?from_date=${from}&to_date=${plusDays(from, Number(range.value))}`),
      api("/ledger/recurring"),
      api("/ledger/recurring/proposals"),
    ]);
    replace(found, proposals.items.length ? proposals.items.map(proposal) : h("li", { class: "empty",
      text: t(proposals.detected_at ? "recurring.found.none" : "recurring.found.notYet") }));
    const days = [...new Set(items.map((o) => o.due_on))];
    replace(calendar, days.length ? days.map((day) => h("div", {},
      h("h3", { text: formatDate(day) }), h("ul", { class: "rows" }, items.filter((o) => o.due_on === day)
        .map(occurrence)))) : h("p", { class: "empty", text: t("recurring.nothingDue") }));
    replace(schedules, all.length ? all.map((s) => h("li", { class: "row" },
      h("strong", { text: s.name }),
      h("span", { text: `${money(s.amount_minor, s.currency)} ${describe(s)}` }),
      h("span", { class: "muted", text: `${book.account.get(s.account_id)?.name ?? "?"} · ${s.auto_post
        ? t("recurring.autoPosted") : t("recurring.reminderOnly")} · ${s.next_due_on
        ? t("recurring.nextOn", { day: formatDate(s.next_due_on) }) : t("recurring.done")}` }),
      h("button", { type: "button", class: "small", onclick: () => {
        if (window.confirm(t("recurring.cancelConfirm", { name: s.name }))) {
          run(() => api(`/ledger/recurring/${s.id}/cancel`, { method: "POST", body: { expected_version: s.version } }),
            t("recurring.cancelled", { name: s.name }));
        }
      } }, t("recurring.cancelNamed", { name: s.name }))))
      : h("li", { class: "empty", text: t("recurring.noSchedules") }));
  }
  range.addEventListener("change", () => load().catch((error) => status.error(error.message)));

  // --- a new schedule ----------------------------------------------------------------------------------
  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const account = h("select", { required: true });
  fillSelect(account, book.accounts.filter((a) => !a.archived).map((a) => ({ value: a.id, label: a.name })));
  const kind = h("select", {});
  fillSelect(kind, [{ value: "expense", label: t("recurring.expense") }, { value: "income", label: t("recurring.income") }]);
  const amount = h("input", { type: "text", inputmode: "decimal", required: true, autocomplete: "off" });
  const category = h("select", {});
  const fillCategories = () => fillSelect(category, categoryChoices(book, kind.value), t("recurring.noCategory"));
  fillCategories();
  kind.addEventListener("change", fillCategories);
  const payee = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
  const cadence = h("select", {});
  fillSelect(cadence, CADENCES.map(([value, key]) => ({ value, label: t(key) })));
  const interval = h("input", { type: "number", min: 1, max: 366, value: 1 });
  const dayOfMonth = h("select", {});
  fillSelect(dayOfMonth, [{ value: "", label: t("recurring.sameDay") }, { value: "-1", label: t("recurring.lastDay") },
    ...Array.from({ length: 31 }, (_, i) => ({ value: String(i + 1), label: t("recurring.dayN", { day: i + 1 }) }))]);
  const startsOn = h("input", { type: "date", required: true, value: today() });
  const endsOn = h("input", { type: "date" });
  const count = h("input", { type: "number", min: 1, max: 10000 });
  const isBill = h("input", { type: "checkbox" });
  const autoPost = h("input", { type: "checkbox" });
  const remind = h("input", { type: "number", min: 0, max: 60, value: 3 });
  const formStatus = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("recurring.newLabel") },
    h("h2", { text: t("recurring.newTitle") }),
    h("div", { class: "row" }, field(t("recurring.name"), name), field(t("recurring.account"), account),
      field(t("recurring.kind"), kind), field(t("recurring.amount"), amount)),
    h("div", { class: "row" }, field(t("recurring.category"), category), field(t("recurring.payee"), payee)),
    h("div", { class: "row" }, field(t("recurring.repeats"), cadence),
      field(t("recurring.interval"), interval, t("recurring.intervalHint")),
      field(t("recurring.dayOfMonth"), dayOfMonth)),
    h("div", { class: "row" }, field(t("recurring.startsOn"), startsOn), field(t("recurring.endsOn"), endsOn),
      field(t("recurring.count"), count)),
    h("div", { class: "row" }, field(t("recurring.isBill"), isBill), field(t("recurring.autoPost"), autoPost),
      field(t("recurring.remind"), remind)),
    h("button", { type: "submit", class: "primary" }, t("recurring.save")), formStatus.element);
  container.append(h("section", { class: "card" }, form));
  onSubmit(form, formStatus, async () => {
    const chosen = book.account.get(account.value);
    if (!chosen) return formStatus.error(t("recurring.chooseAccount"));
    const parsed = parseAmount(amount.value, minorDigits(chosen.currency));
    if (!parsed.ok) return formStatus.error(parsed.error);
    const body = { name: name.value.trim(), account_id: chosen.id, kind: kind.value, amount_minor: parsed.minor,
      category_id: category.value || null, payee: payee.value.trim(), cadence: cadence.value,
      interval: Number(interval.value || 1), starts_on: startsOn.value, ends_on: endsOn.value || null,
      count: count.value ? Number(count.value) : null, is_bill: isBill.checked, auto_post: autoPost.checked,
      remind_days_before: Number(remind.value || 0),
      day_of_month: cadence.value === "monthly" && dayOfMonth.value ? Number(dayOfMonth.value) : null };
    const made = await api("/ledger/recurring", { method: "POST", body });
    formStatus.ok(made.next_due_on ? t("recurring.savedNext", { name: made.name, day: formatDate(made.next_due_on) })
      : t("recurring.saved", { name: made.name }));
    name.value = "";
    amount.value = "";
    await load();
    return undefined;
  });
  await load().catch((error) => status.error(error.message));
  return undefined;
}
