// #/household — the household you are in (its settings; owners change them), the others you belong to
// with a switch between them, leaving one, and starting a new one.

import { api, switchHousehold } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { WEEK_STARTS, select, timeZoneInput } from "./profile.js";

const ROLES = { owner: "Owner", member: "Member", viewer: "Viewer (read only)" };

export async function renderHousehold(container, { navigate }) {
  const status = statusLine();
  const settings = h("section", { class: "card stack", "aria-labelledby": "household-title" },
    h("h1", { id: "household-title", text: "Household" }));
  const list = h("ul", { class: "rows", "aria-label": "Your households" });
  const others = h("section", { class: "card stack", "aria-labelledby": "households-title" },
    h("h2", { id: "households-title", text: "Your households" }), list, status.element, createForm());
  container.append(h("div", { class: "grid" }, h("div", { class: "column" }, settings),
    h("div", { class: "column" }, others)));

  async function load() {
    const [household, { items }] = await Promise.all([api("/auth/household"), api("/auth/households")]);
    replace(settings, h("h1", { id: "household-title", text: household.name }),
      h("p", { class: "muted", text: `You are ${ROLES[household.role].toLowerCase()} here.` }),
      household.role === "owner" ? settingsForm(household) : settingsView(household),
      h("p", {}, h("a", { href: "#/members" }, "Members and invitations")));
    replace(list, items.map(row));
  }

  function row(item) {
    const actions = [];
    if (!item.current) {
      actions.push(h("button", { type: "button", class: "small", onclick: () => act(async () => {
        await switchHousehold(item.id);
        navigate("/");
      }) }, "Switch"));
      actions.push(h("button", { type: "button", class: "small", onclick: () => act(async () => {
        if (!window.confirm(`Leave ${item.name}? You will no longer see its books.`)) return;
        await api(`/auth/households/${encodeURIComponent(item.id)}/leave`, { method: "POST" });
        status.ok(`You left ${item.name}.`);
        await load();
      }) }, "Leave"));
    }
    return h("li", { class: "row-item" },
      h("span", { class: "grow" }, h("strong", { class: "block", text: item.name }),
        h("span", { class: "muted", text: `${ROLES[item.role]} · ${item.base_currency}${item.current ? " · current" : ""}` })),
      actions);
  }

  async function act(action) {
    status.clear();
    try {
      await action();
    } catch (error) {
      status.error(error.message);
    }
  }

  function createForm() {
    const name = h("input", { type: "text", name: "household-name", required: true, maxlength: 100 });
    const currency = h("input", { type: "text", name: "currency", maxlength: 3, value: "EUR", required: true,
      autocapitalize: "characters", pattern: "[A-Za-z]{3}" });
    const formStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": "Start a household" },
      h("h2", { text: "Start another household" }),
      field("Name", name), field("Currency", currency, "Its budgets and reports use it, e.g. EUR."),
      h("button", { type: "submit" }, "Create household"), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const created = await api("/auth/households", { method: "POST",
        body: { name: name.value.trim(), base_currency: currency.value.trim().toUpperCase() } });
      form.reset();
      formStatus.ok(`${created.name} is ready. Switch to it to keep its books.`);
      await load();
    });
    return form;
  }

  try {
    await load();
  } catch (error) {
    status.error(error.message);
  }
}

function settingsView(household) {
  return h("dl", { class: "stack" },
    h("dt", { text: "Currency" }), h("dd", { text: household.base_currency }),
    h("dt", { text: "Time zone" }), h("dd", { text: household.time_zone }),
    h("dt", { text: "Weeks start on" }), h("dd", { text: household.week_start }));
}

function settingsForm(household) {
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 100, value: household.name });
  const currency = h("input", { type: "text", name: "currency", required: true, maxlength: 3,
    pattern: "[A-Za-z]{3}", autocapitalize: "characters", value: household.base_currency });
  const zone = timeZoneInput(household.time_zone);
  const week = select("week-start", WEEK_STARTS, household.week_start);
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-label": "Household settings" },
    field("Household name", name), field("Currency", currency, "Budgets and reports are in this currency."),
    field("Time zone", zone, "Days and months are counted here."), field("First day of the week", week),
    h("button", { type: "submit", class: "primary" }, "Save settings"), status.element);
  onSubmit(form, status, async () => {
    await api("/auth/household", { method: "PATCH", body: { name: name.value.trim(),
      base_currency: currency.value.trim().toUpperCase(), time_zone: zone.value.trim(), week_start: week.value } });
    status.ok("Settings saved.");
  });
  return form;
}
