// #/profile — how Tally addresses you and counts your days: name, language, time zone, first day of the week.

import { api } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";

export const WEEK_STARTS = [["monday", "Monday"], ["sunday", "Sunday"], ["saturday", "Saturday"]];
const LOCALES = [["en", "English"], ["en-GB", "English (UK)"], ["de", "Deutsch"], ["fr", "Français"],
  ["es", "Español"], ["it", "Italiano"], ["nl", "Nederlands"]];

/** A time-zone input with the browser's list of IANA names to choose from (the server checks the name). */
export function timeZoneInput(value) {
  const listId = "time-zones";
  if (!document.getElementById(listId)) {
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    document.body.append(h("datalist", { id: listId }, zones.map((zone) => h("option", { value: zone }))));
  }
  return h("input", { type: "text", name: "time-zone", list: listId, required: true, maxlength: 64,
    autocomplete: "off", spellcheck: "false", value });
}

export function select(name, options, value) {
  return h("select", { name }, options.map(([code, label]) => h("option", { value: code, selected: code === value },
    label)));
}

export async function renderProfile(container) {
  const title = h("h1", { id: "profile-title", text: "Your profile" });
  const card = h("section", { class: "card narrow stack", "aria-labelledby": "profile-title" }, title);
  container.append(card);
  let profile;
  try {
    profile = await api("/auth/profile");
  } catch (error) {
    card.append(h("p", { class: "status error", role: "alert", text: error.message }));
    return;
  }
  const name = h("input", { type: "text", name: "display-name", required: true, maxlength: 100,
    autocomplete: "name", value: profile.display_name });
  const locales = LOCALES.some(([code]) => code === profile.locale) ? LOCALES
    : [[profile.locale, profile.locale], ...LOCALES];
  const locale = select("locale", locales, profile.locale);
  const zone = timeZoneInput(profile.time_zone);
  const week = select("week-start", WEEK_STARTS, profile.week_start);
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-label": "Profile" },
    h("p", { class: "muted", text: profile.email }),
    field("Your name", name),
    field("Language and region", locale, "Used for dates and numbers in e-mails."),
    field("Time zone", zone, "Reminders and e-mails arrive in your local time, e.g. Europe/Berlin."),
    field("First day of the week", week),
    h("button", { type: "submit", class: "primary" }, "Save profile"),
    status.element);
  onSubmit(form, status, async () => {
    await api("/auth/profile", { method: "PATCH", body: {
      display_name: name.value.trim(), locale: locale.value, time_zone: zone.value.trim(), week_start: week.value,
    } });
    status.ok("Profile saved.");
  });
  card.append(form, h("p", {}, h("a", { href: "#/household" }, "Household and members"), " · ",
    h("a", { href: "#/my-data" }, "Your data"), " · ", h("a", { href: "#/security" }, "Security")));
}
