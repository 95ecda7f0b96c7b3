// #/security — the account's security page: email confirmation, password change, and the way to
// two-step sign-in, sessions and the security log.

import { api } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";
import { t } from "../i18n.js";

export async function renderSecurity(container) {
  const title = h("h1", { text: t("security.title") });
  container.append(title);
  let me;
  try {
    me = await api("/auth/me");
  } catch (error) {
    if (title.isConnected) container.append(h("p", { class: "status error", role: "alert", text: error.message }));
    return;
  }
  container.append(h("div", { class: "grid" },
    h("div", { class: "column" }, emailCard(me), passwordCard()),
    h("div", { class: "column" }, linksCard(me))));
}

function emailCard(me) {
  const status = statusLine();
  const card = h("section", { class: "card stack", "aria-labelledby": "email-title" },
    h("h2", { id: "email-title", text: t("security.emailTitle") }),
    h("p", {}, h("strong", { text: me.email }), " — ", me.email_verified ? t("security.confirmed") : t("security.notConfirmed")));
  if (!me.email_verified) {
    const form = h("form", { class: "stack" },
      h("button", { type: "submit" }, t("security.resend")), status.element);
    onSubmit(form, status, async () => {
      const answer = await api("/auth/verify-email/resend", { method: "POST" });
      status.ok(answer.detail);
    });
    card.append(form);
  }
  return card;
}

function passwordCard() {
  const current = h("input", { type: "password", name: "current-password", autocomplete: "current-password",
    required: true });
  const next = h("input", { type: "password", name: "new-password", autocomplete: "new-password", required: true,
    minlength: 10 });
  const status = statusLine();
  const form = h("form", { class: "card stack", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title", text: t("security.passwordTitle") }),
    field(t("security.currentPassword"), current),
    field(t("security.newPassword"), next, t("security.newPasswordHint")),
    h("button", { type: "submit", class: "primary" }, t("security.changePassword")),
    status.element);
  onSubmit(form, status, async () => {
    await api("/auth/password", {
      method: "POST", body: { current_password: current.value, new_password: next.value },
    });
    form.reset();
    status.ok(t("security.passwordChanged"));
  });
  return form;
}

function linksCard(me) {
  return h("section", { class: "card stack", "aria-labelledby": "more-title" },
    h("h2", { id: "more-title", text: t("security.protectionTitle") }),
    h("ul", { class: "rows" },
      h("li", {}, h("a", { href: "#/two-factor" }, t("security.twoFactor")),
        h("span", { class: "muted", text: me.two_factor_enabled ? t("security.on") : t("security.off") })),
      h("li", {}, h("a", { href: "#/sessions" }, t("security.sessions"))),
      h("li", {}, h("a", { href: "#/security-log" }, t("security.log")))));
}
