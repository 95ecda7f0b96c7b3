// Sign in: email and password, then — when the account has two-factor sign-in — a code from the
// authenticator app or a recovery code.

import { signIn, signInSecondStep } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";

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
    h("h1", { id: "signin-title", text: t("signIn.title") }),
    field(t("signIn.email"), email),
    field(t("signIn.password"), password),
    h("button", { type: "submit", class: "primary" }, t("signIn.submit")),
    status.element,
    h("p", {}, h("a", { href: "#/forgot" }, t("signIn.forgot"))),
    h("p", {}, t("signIn.newHere"), h("a", { href: "#/signup" }, t("signIn.createAccount"))),
  );
  onSubmit(form, status, async () => {
    let challenge;
    try {
      challenge = await signIn(email.value.trim(), password.value);
    } catch (error) {
      password.select();
      throw error.status === 401 ? new Error(t("signIn.mismatch")) : error;
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
    h("h1", { id: "second-step-title", text: t("signIn.secondStepTitle") }),
    field(t("signIn.code"), code, t("signIn.codeHint")),
    h("button", { type: "submit", class: "primary" }, t("signIn.continue")),
    status.element,
    h("p", {}, h("a", { href: "#/signin" }, t("signIn.startAgain"))),
  );
  onSubmit(form, status, async () => {
    try {
      await signInSecondStep(challenge, code.value.trim());
    } catch (error) {
      code.select();
      throw error.status === 401 && /expired/.test(error.message)
        ? new Error(t("signIn.tooLong")) : error;
    }
    navigate("/");
  });
  queueMicrotask(() => code.focus());
  return form;
}
