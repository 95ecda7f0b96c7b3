// #/profile — how Tally addresses you and counts your days: name, language, time zone, first day of the week.

import { api } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { select, timeZoneInput, weekStarts } from "../widgets/inputs.js";

// Each language in its own name, so not translated.
const LOCALES = [["en", "English"], ["en-GB", "English (UK)"], ["de", "Deutsch"], ["fr", "Français"],
  ["es", "Español"], ["it", "Italiano"], ["nl", "Nederlands"]];

export async function renderProfile(container) {
  const title = h("h1", { id: "profile-title", text: t("profile.title") });
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
  const week = select("week-start", weekStarts(), profile.week_start);
  const status = statusLine();
  const form = h("form", { class: "stack", "aria-label": t("profile.formLabel") },
    h("p", { class: "muted", text: profile.email }),
    field(t("profile.yourName"), name),
    field(t("profile.locale"), locale, t("profile.localeHint")),
    field(t("profile.timeZone"), zone, t("profile.timeZoneHint")),
    field(t("profile.weekStart"), week),
    h("button", { type: "submit", class: "primary" }, t("profile.save")),
    status.element);
  onSubmit(form, status, async () => {
    await api("/auth/profile", { method: "PATCH", body: {
      display_name: name.value.trim(), locale: locale.value, time_zone: zone.value.trim(), week_start: week.value,
    } });
    status.ok(t("profile.saved"));
  });
  card.append(form, h("p", {}, h("a", { href: "#/household" }, t("profile.householdLink")), " · ",
    h("a", { href: "#/my-data" }, t("profile.dataLink")), " · ", h("a", { href: "#/security" }, t("profile.securityLink"))));
}
