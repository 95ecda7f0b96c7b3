import { signIn } from "../api.js";
import { field, h, onSubmit, statusLine } from "../dom.js";

export function renderSignIn(container, { navigate }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password", name: "password", autocomplete: "current-password", required: true,
  });
  const status = statusLine();
  const notice = sessionStorage.getItem("tally.notice");
  sessionStorage.removeItem("tally.notice");
  if (notice) status.error(notice);

  const form = h("form", { class: "card narrow stack", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", text: "Sign in" }),
    field("Email", email),
    field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status.element,
    h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account")),
  );
  onSubmit(form, status, async () => {
    try {
      await signIn(email.value.trim(), password.value);
    } catch (error) {
      password.select();
      throw error.status === 401 ? new Error("That email and password do not match.") : error;
    }
    navigate("/");
  });
  container.append(form);
  email.focus();
}
