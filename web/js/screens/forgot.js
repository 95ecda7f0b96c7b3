// #/forgot — ask for a password-reset link. The answer is the same whether the address has an account.

import { api } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";

export function renderForgot(container) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const status = statusLine();
  const form = h("form", { class: "card narrow stack", "aria-labelledby": "forgot-title" },
    h("h1", { id: "forgot-title", text: "Reset your password" }),
    h("p", {}, "Enter the email address of your account and we will send you a link to choose a new password."),
    field("Email", email),
    h("button", { type: "submit", class: "primary" }, "Send the link"),
    status.element,
    h("p", {}, h("a", { href: "#/signin" }, "Back to sign in")),
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
