// #/forgot — ask for a password-reset link. The answer is the same whether the address has an account.

import { api } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";
import { t } from "../i18n.js";

export function renderForgot(container) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const status = statusLine();
  const form = h("form", { class: "card narrow stack", "aria-labelledby": "forgot-title" },
    h("h1", { id: "forgot-title", text: t("forgot.title") }),
    h("p", {}, t("forgot.intro")),
    field(t("forgot.email"), email),
    h("button", { type: "submit", class: "primary" }, t("forgot.submit")),
    status.element,
    h("p", {}, h("a", { href: "#/signin" }, t("forgot.back"))),
  );
  onSubmit(form, status, async () => {
    const answer = await api("/auth/password-reset/request", {
      method: "POST", body: { email: email.value.trim() }, auth: false,
    });
    status.ok(answer.detail);
  });
  container.append(form);
  email.focus();
}
