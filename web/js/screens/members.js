// #/members — who shares this household and with which role; owners invite by e-mail, change roles,
// remove members, hand over ownership and withdraw invitations.

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { when } from "./linktoken.js";

const ROLE_NAMES = [["owner", "Owner"], ["member", "Member"], ["viewer", "Viewer"]];
const ROLE_HINT = "Owners manage the household and its members; members keep the books; viewers only read.";

export async function renderMembers(container) {
  const status = statusLine();
  const list = h("ul", { class: "rows", "aria-label": "Members" });
  const pending = h("ul", { class: "rows", "aria-label": "Pending invitations" });
  const membersCard = h("section", { class: "card stack", "aria-labelledby": "members-title" },
    h("h1", { id: "members-title", text: "Members" }), h("p", { class: "hint", text: ROLE_HINT }), list,
    status.element, h("p", {}, h("a", { href: "#/household" }, "Back to Household")));
  const inviteCard = h("section", { class: "card stack", "aria-labelledby": "invite-title" });
  container.append(h("div", { class: "grid" }, h("div", { class: "column" }, membersCard),
    h("div", { class: "column" }, inviteCard)));

  let isOwner = false;

  async function load() {
    const [{ members, invitations }, household] = await Promise.all([
      api("/auth/household/members"), api("/auth/household")]);
    isOwner = household.role === "owner";
    replace(list, members.map(row));
    replace(pending, invitations.length ? invitations.map(invitation)
      : h("li", { class: "empty", text: "No invitations waiting." }));
    replace(inviteCard, ...(isOwner ? [h("h2", { id: "invite-title", text: "Invite someone" }), inviteForm(),
      h("h2", { text: "Waiting for an answer" }), pending] : [h("h2", { id: "invite-title", text: "Invitations" }),
      h("p", { class: "muted", text: "Only the household's owners invite people." })]));
  }

  async function act(action, done) {
    status.clear();
    try {
      await action();
      status.ok(done);
      await load();
    } catch (error) {
      status.error(error.message);
    }
  }

  function row(member) {
    const label = `${member.display_name}${member.you ? " (you)" : ""}`;
    const parts = [h("span", { class: "grow" }, h("strong", { class: "block", text: label }),
      h("span", { class: "muted", text: `${member.email} · joined ${when(member.joined_at)}` }))];
    if (isOwner && !member.you) {
      const role = h("select", { "aria-label": `Role of ${member.display_name}` },
        ROLE_NAMES.map(([code, name]) => h("option", { value: code, selected: code === member.role }, name)));
      role.addEventListener("change", () => act(() => api(`/auth/household/members/${member.user_id}`,
        { method: "PATCH", body: { role: role.value } }), `${member.display_name} is now ${role.value}.`));
      parts.push(role,
        h("button", { type: "button", class: "small", onclick: () => {
          if (!window.confirm(`Make ${member.display_name} the owner? You will become a member.`)) return;
          act(() => api("/auth/household/transfer", { method: "POST", body: { user_id: member.user_id } }),
            `${member.display_name} now owns the household.`);
        } }, "Make owner"),
        h("button", { type: "button", class: "small", onclick: () => {
          if (!window.confirm(`Remove ${member.display_name} from the household?`)) return;
          act(() => api(`/auth/household/members/${member.user_id}`, { method: "DELETE" }),
            `${member.display_name} was removed.`);
        } }, "Remove"));
    } else {
      parts.push(h("span", { class: "muted", text: ROLE_NAMES.find(([code]) => code === member.role)?.[1] ?? member.role }));
    }
    return h("li", { class: "row-item member" }, parts);
  }

  function invitation(item) {
    return h("li", { class: "row-item" },
      h("span", { class: "grow" }, h("strong", { class: "block", text: item.email }),
        h("span", { class: "muted", text: `${item.role} · until ${when(item.expires_at)}` })),
      h("button", { type: "button", class: "small", onclick: () => act(() => api(
        `/auth/household/invitations/${item.id}`, { method: "DELETE" }), `The invitation to ${item.email} was withdrawn.`),
      }, "Withdraw"));
  }

  function inviteForm() {
    const email = h("input", { type: "email", name: "email", required: true, maxlength: 320, autocomplete: "off" });
    const role = h("select", { name: "role" },
      ROLE_NAMES.map(([code, name]) => h("option", { value: code, selected: code === "member" }, name)));
    const formStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": "Invite someone" },
      field("Their e-mail address", email, "They get a link that works once, for 7 days."),
      field("Role", role), h("button", { type: "submit", class: "primary" }, "Send invitation"), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const sent = await api("/auth/household/invitations", { method: "POST",
        body: { email: email.value.trim(), role: role.value } });
      await load();
      // `load` replaced the card; tell the person on the new form.
      inviteCard.querySelector("form .status")?.replaceWith(h("p", { class: "status ok", role: "status",
        text: `Invitation sent to ${sent.email}.` }));
    });
    return form;
  }

  try {
    await load();
  } catch (error) {
    status.error(error.message);
  }
}
