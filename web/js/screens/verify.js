// #/verify?token=… — where the link in the verification email lands.

import { api, isSignedIn } from "../api.js";
import { h } from "../dom.js";
import { takeLinkToken } from "./linktoken.js";

export async function renderVerify(container) {
  const token = takeLinkToken("/verify");
  const message = h("p", { class: "status", role: "status", text: "Confirming your email address…" });
  const next = isSignedIn() ? h("a", { href: "#/" }, "Go to Tally") : h("a", { href: "#/signin" }, "Sign in");
  container.append(h("section", { class: "card narrow stack", "aria-labelledby": "verify-title" },
    h("h1", { id: "verify-title", text: "Email address" }), message, h("p", {}, next)));
  if (!token) {
    message.className = "status error";
    message.textContent = "This link is incomplete. Open the link from the email again.";
    return;
  }
  try {
    await api("/auth/verify-email", { method: "POST", body: { token }, auth: false });
    message.className = "status ok";
    message.textContent = "Thank you: your email address is confirmed.";
    document.getElementById("check-inbox")?.remove();
  } catch (error) {
    message.className = "status error";
    message.textContent = error.status === 400
      ? `${error.message} Ask for a new link on the Security page.` : error.message;
  }
}
