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
    field("Password", password, `At least ${MIN_PASSWORD_LENGTH} characters.`),
    h("button", { type: "submit", class: "primary" }, "Create account"),
    status.element,
    h("p", {}, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in")),
  );
  onSubmit(form, status, async () => {
    await signUp({ email: email.value.trim(), password: password.value, displayName: displayName.value.trim() });
    navigate("/");
  });
  container.append(form);
  displayName.focus();
}
