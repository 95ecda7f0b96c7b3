import { signUp } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";
import { t } from "../i18n.js";

const MIN_PASSWORD_LENGTH = 10;

export function renderSignUp(container, { navigate }) {
  const displayName = h("input", { type: "text", name: "name", autocomplete: "name", required: true,
    maxlength: 100 });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password",
    required: true, minlength: MIN_PASSWORD_LENGTH });
  const status = statusLine();

  const form = h("form", { class: "card narrow stack", "aria-labelledby": "signup-title" },
    h("h1", { id: "signup-title", text: t("signUp.title") }),
    field(t("signUp.yourName"), displayName),
    field(t("signUp.email"), email),
    field(t("signUp.password"), password, t("signUp.passwordHint", { min: MIN_PASSWORD_LENGTH })),
    h("button", { type: "submit", class: "primary" }, t("signUp.submit")),
    status.element,
    h("p", {}, t("signUp.haveAccount"), h("a", { href: "#/signin" }, t("signUp.signIn"))),
  );
  onSubmit(form, status, async () => {
    const address = email.value.trim();
    await signUp({ email: address, password: password.value, displayName: displayName.value.trim() });
    showCheckInbox(address);
    navigate("/");
  });
  container.append(form);
  displayName.focus();
}

/**
 * "Check your inbox", above whatever screen comes next until dismissed: confirming the address is asked
 * for, not required, so the new household can start right away.
 */
function showCheckInbox(address) {
  document.getElementById("check-inbox")?.remove();
  const [before, after = ""] = t("signUp.sentLink").split("{address}");
  const notice = h("aside", { id: "check-inbox", class: "card notice", role: "status" },
    h("strong", { text: t("signUp.checkInbox") }),
    before, h("strong", { text: address }), after,
    h("button", { type: "button", class: "link", onclick: () => notice.remove() }, t("signUp.dismiss")));
  document.querySelector(".topbar")?.after(notice);
}
