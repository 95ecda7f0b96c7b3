import { signUp } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";

const MIN_PASSWORD_LENGTH = 10;

export function renderSignUp(container, { navigate }) {
  const displayName = h("input", { type: "text", name: "name", autocomplete: "name", required: true,
    maxlength: 100 });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password",
    required: true, minlength: MIN_PASSWORD_LENGTH });
  const status = statusLine();

  const form = h("form", { class: "card narrow stack", "aria-labelledby": "signup-title" },
    h("h1", { id: "signup-title", text: "Create your household" }),
    field("Your name", displayName),
    field("Email", email),
    field("Password", password,
      `At least ${MIN_PASSWORD_LENGTH} characters, and not a common password: a few unrelated words work well.`),
    h("button", { type: "submit", class: "primary" }, "Create account"),
    status.element,
    h("p", {}, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in")),
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
  const notice = h("aside", { id: "check-inbox", class: "card notice", role: "status" },
    h("strong", { text: "Check your inbox. " }),
    "We sent a link to ", h("strong", { text: address }), " to confirm your email address. ",
    h("button", { type: "button", class: "link", onclick: () => notice.remove() }, "Dismiss"));
  document.querySelector(".topbar")?.after(notice);
}
