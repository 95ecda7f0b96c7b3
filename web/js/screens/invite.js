// #/invite?token=… — where the link in an invitation e-mail lands. Signed in: join the household and
// switch to it. Not yet: the link waits in this tab while the person signs in or creates an account
// (with the address the invitation was sent to), then comes back here.

import { api, isSignedIn, switchHousehold } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { takeLinkToken } from "../widgets/linktoken.js";

export const PENDING_INVITE = "tally.invite";

export async function renderInvite(container, { navigate }) {
  const token = takeLinkToken("/invite") ?? sessionStorage.getItem(PENDING_INVITE);
  const message = h("p", { class: "status", role: "status" });
  const card = h("section", { class: "card narrow stack", "aria-labelledby": "invite-title" },
    h("h1", { id: "invite-title", text: t("invite.title") }), message);
  container.append(card);
  if (!token) {
    sessionStorage.removeItem(PENDING_INVITE);
    message.className = "status error";
    message.textContent = t("invite.incomplete");
    return;
  }
  if (!isSignedIn()) {
    sessionStorage.setItem(PENDING_INVITE, token);
    message.textContent = t("invite.signInFirst");
    card.append(h("p", {}, h("a", { href: "#/signin" }, t("invite.signIn")), " · ",
      h("a", { href: "#/signup" }, t("invite.createAccount"))));
    return;
  }
  const join = h("button", { type: "button", class: "primary" }, t("invite.join"));
  message.textContent = t("invite.ask");
  card.append(join);
  join.addEventListener("click", async () => {
    join.disabled = true;
    try {
      const household = await api("/auth/invitations/accept", { method: "POST", body: { token } });
      sessionStorage.removeItem(PENDING_INVITE);
      await switchHousehold(household.id);
      message.className = "status ok";
      message.textContent = t("invite.welcome", { name: household.name });
      navigate("/household");
    } catch (error) {
      if (error.status === 400 || error.status === 403 || error.status === 409) {
        sessionStorage.removeItem(PENDING_INVITE);
      }
      join.disabled = false;
      message.className = "status error";
      message.textContent = error.message;
    }
  });
}
