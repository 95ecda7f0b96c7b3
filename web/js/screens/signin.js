// Sign in: email and password, then — when the account has two-factor sign-in — a code from the
// authenticator app or a recovery code.

import { signIn, signInSecondStep } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";

export function renderSignIn(container, { navigate }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password", name: "password", autocomplete: "current-password", required: true,
  });
  const status = statusLine();
  document.getElementById("check-inbox")?.remove(); // a previous sign-up's notice
  const notice = sessionStorage.getItem("tally.notice");
  sessionStorage.removeItem("tally.notice");
  if (notice) status.error(notice);

  const form = h("form", { class: "card narrow stack", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", text: "Sign in" }),
    field("Email", email),
    field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status.element,
    h("p", {}, h("a", { href: "#/forgot" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account")),
  );
  onSubmit(form, status, async () => {
    let challenge;
    try {
      challenge = await signIn(email.value.trim(), password.value);
    } catch (error) {
      password.select();
      throw error.status === 401 ? new Error("That email and password do not match.") : error;
    }
    if (challenge) replace(container, secondStep(challenge, navigate));
    else navigate("/");
  });
  container.append(form);
  email.focus();
}

function secondStep(challenge, navigate) {
  const code = h("input", {
    type: "text", name: "code", autocomplete: "one-time-code", inputmode: "text", required: true,
    maxlength: 20, spellcheck: "false",
  });
  const status = statusLine();
  const form = h("form", { class: "card narrow stack", "aria-labelledby": "second-step-title" },
    h("h1", { id: "second-step-title", text: "Two-step sign-in" }),
    field("Code", code, "The 6-digit code from your authenticator app, or one of your recovery codes."),
    h("button", { type: "submit", class: "primary" }, "Continue"),
    status.element,
    h("p", {}, h("a", { href: "#/signin" }, "Start again")),
  );
  onSubmit(form, status, async () => {
    try {
      await signInSecondStep(challenge, code.value.trim());
    } catch (error) {
      code.select();
      throw error.status === 401 && /expired/.test(error.message)
        ? new Error("This sign-in took too long. Start again.") : error;
    }
    navigate("/");
  });
  queueMicrotask(() => code.focus());
  return form;
}
