// #/household — the household you are in (its settings; owners change them), the others you belong to
// with a switch between them, leaving one, and starting a new one.

import { api, switchHousehold } from "../api.js";
import { attempt, field, h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { select, timeZoneInput, weekStarts } from "../widgets/inputs.js";

// Role → keys of its name and of "You are … here." (read with t() when rendering).
const ROLES = {
  owner: ["household.roles.owner", "household.youAre.owner"],
  member: ["household.roles.member", "household.youAre.member"],
  viewer: ["household.roles.viewer", "household.youAre.viewer"],
};
// The first day of the week as shown among the settings (in English the value itself, as before).
const WEEK_START_VALUES = {
  monday: "household.weekStartValues.monday",
  sunday: "household.weekStartValues.sunday",
  saturday: "household.weekStartValues.saturday",
};

const roleName = (role) => (ROLES[role] ? t(ROLES[role][0]) : role);

export async function renderHousehold(container, { navigate }) {
  const status = statusLine();
  const settings = h("section", { class: "card stack", "aria-labelledby": "household-title" },
    h("h1", { id: "household-title", text: t("household.title") }));
  const list = h("ul", { class: "rows", "aria-label": t("household.yourHouseholds") });
  const others = h("section", { class: "card stack", "aria-labelledby": "households-title" },
    h("h2", { id: "households-title", text: t("household.yourHouseholds") }), list, status.element, createForm());
  container.append(h("div", { class: "grid" }, h("div", { class: "column" }, settings),
    h("div", { class: "column" }, others)));

  async function load() {
    const [household, { items }] = await Promise.all([api("/auth/household"), api("/auth/households")]);
    replace(settings, h("h1", { id: "household-title", text: household.name }),
      h("p", { class: "muted", text: ROLES[household.role] ? t(ROLES[household.role][1]) : household.role }),
      household.role === "owner" ? settingsForm(household) : settingsView(household),
      h("p", {}, h("a", { href: "#/members" }, t("household.membersLink"))));
    replace(list, items.map(row));
  }

  function row(item) {
    const actions = [];
    if (!item.current) {
      actions.push(h("button", { type: "button", class: "small", onclick: () => act(async () => {
        await switchHousehold(item.id);
        navigate("/");
      }) }, t("household.switch")));
      actions.push(h("button", { type: "button", class: "small", onclick: () => act(async () => {
        if (!window.confirm(t("household.leaveConfirm", { name: item.name }))) return;
        await api(`/auth/households/${encodeURIComponent(item.id)}/leave`, { method: "POST" });
        status.ok(t("household.left", { name: item.name }));
        await load();
      }) }, t("household.leave")));
    }
    return h("li", { class: "row-item" },
      h("span", { class: "grow" }, h("strong", { class: "block", text: item.name }),
        h("span", { class: "muted", text: [roleName(item.role), item.base_currency, item.current ? t("household.current") : null]
          .filter(Boolean).join(" · ") })),
      actions);
  }

  const act = (action) => attempt(status, action);

  function createForm() {
    const name = h("input", { type: "text", name: "household-name", required: true, maxlength: 100 });
    const currency = h("input", { type: "text", name: "currency", maxlength: 3, value: "EUR", required: true,
      autocapitalize: "characters", pattern: "[A-Za-z]{3}" });
    const formStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": t("household.createLabel") },
      h("h2", { text: t("household.createTitle") }),
      field(t("household.name"), name), field(t("household.currency"), currency, t("household.newCurrencyHint")),
      h("button", { type: "submit" }, t("household.create")), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const created = await api("/auth/households", { method: "POST",
        body: { name: name.value.trim(), base_currency: currency.value.trim().toUpperCase() } });
      form.reset();
      formStatus.ok(t("household.created", { name: created.name }));
      await load();
    });
    return form;
  }

  await attempt(status, load);
}

function settingsView(household) {
  return h("dl", { class: "stack" },
    h("dt", { text: t("household.currency") }), h("dd", { text: household.base_currency }),
    h("dt", { text: t("household.timeZone") }), h("dd", { text: household.time_zone }),
    h("dt", { text: t("household.weeksStartOn") }),
    h("dd", { text: WEEK_START_VALUES[household.week_start] ? t(WEEK_START_VALUES[household.week_start]) : household.week_start }));
}

function settingsForm(household) {
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 100, value: household.name });
  const currency = h("input", { type: "text", name: "currency", required: true, maxlength: 3,
    pattern: "[A-Za-z]{3}", autocapitalize: "characters", value: household.base_currency });
  const zone = timeZoneInput(household.time_zone);
  const week = select("week-start", weekStarts(), household.week_start);
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("household.settingsLabel") },
    field(t("household.householdName"), name), field(t("household.currency"), currency, t("household.currencyHint")),
    field(t("household.timeZone"), zone, t("household.timeZoneHint")), field(t("household.weekStart"), week),
    h("button", { type: "submit", class: "primary" }, t("household.save")), status.element);
  onSubmit(form, status, async () => {
    await api("/auth/household", { method: "PATCH", body: { name: name.value.trim(),
      base_currency: currency.value.trim().toUpperCase(), time_zone: zone.value.trim(), week_start: week.value } });
    status.ok(t("household.saved"));
  });
  return form;
}
