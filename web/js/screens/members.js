// #/members — who shares this household and with which role; owners invite by e-mail, change roles,
// remove members, hand over ownership and withdraw invitations.

import { api } from "../api.js";
import { attempt, field, h, onSubmit, replace, statusLine } from "../dom.js";
import { formatDateTime } from "../format.js";
import { t } from "../i18n.js";

// Role → key of its name (read with t() when rendering).
const ROLE_NAMES = [["owner", "members.roles.owner"], ["member", "members.roles.member"], ["viewer", "members.roles.viewer"]];

/** The role's name in the chosen language (the role's code itself when it is one we do not know). */
function roleName(code) {
  const key = ROLE_NAMES.find(([known]) => known === code)?.[1];
  return key ? t(key) : code;
}

export async function renderMembers(container) {
  const status = statusLine();
  const list = h("ul", { class: "rows", "aria-label": t("members.listLabel") });
  const pending = h("ul", { class: "rows", "aria-label": t("members.pendingLabel") });
  const membersCard = h("section", { class: "card stack", "aria-labelledby": "members-title" },
    h("h1", { id: "members-title", text: t("members.title") }), h("p", { class: "hint", text: t("members.roleHint") }), list,
    status.element, h("p", {}, h("a", { href: "#/household" }, t("members.back"))));
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
      : h("li", { class: "empty", text: t("members.noInvitations") }));
    replace(inviteCard, ...(isOwner ? [h("h2", { id: "invite-title", text: t("members.inviteTitle") }), inviteForm(),
      h("h2", { text: t("members.waiting") }), pending] : [h("h2", { id: "invite-title", text: t("members.invitationsTitle") }),
      h("p", { class: "muted", text: t("members.onlyOwnersInvite") })]));
  }

  const act = (action, done) => attempt(status, async () => {
    await action();
    status.ok(done);
    await load();
  });

  function row(member) {
    const label = member.you ? t("members.you", { name: member.display_name }) : member.display_name;
    const parts = [h("span", { class: "grow" }, h("strong", { class: "block", text: label }),
      h("span", { class: "muted", text: t("members.joined", { email: member.email, when: formatDateTime(member.joined_at) }) }))];
    if (isOwner && !member.you) {
      const role = h("select", { "aria-label": t("members.roleOf", { name: member.display_name }) },
        ROLE_NAMES.map(([code, key]) => h("option", { value: code, selected: code === member.role }, t(key))));
      role.addEventListener("change", () => act(() => api(`/auth/household/members/${member.user_id}`,
        { method: "PATCH", body: { role: role.value } }), t("members.roleChanged", { name: member.display_name, role: role.value, roleName: roleName(role.value) })));
      parts.push(role,
        h("button", { type: "button", class: "small", onclick: () => {
          if (!window.confirm(t("members.makeOwnerConfirm", { name: member.display_name }))) return;
          act(() => api("/auth/household/transfer", { method: "POST", body: { user_id: member.user_id } }),
            t("members.ownerChanged", { name: member.display_name }));
        } }, t("members.makeOwner")),
        h("button", { type: "button", class: "small", onclick: () => {
          if (!window.confirm(t("members.removeConfirm", { name: member.display_name }))) return;
          act(() => api(`/auth/household/members/${member.user_id}`, { method: "DELETE" }),
            t("members.removed", { name: member.display_name }));
        } }, t("members.remove")));
    } else {
      parts.push(h("span", { class: "muted", text: roleName(member.role) }));
    }
    return h("li", { class: "row-item member" }, parts);
  }

  function invitation(item) {
    return h("li", { class: "row-item" },
      h("span", { class: "grow" }, h("strong", { class: "block", text: item.email }),
        h("span", { class: "muted", text: t("members.invitationLine", { role: item.role, roleName: roleName(item.role), when: formatDateTime(item.expires_at) }) })),
      h("button", { type: "button", class: "small", onclick: () => act(() => api(
        `/auth/household/invitations/${item.id}`, { method: "DELETE" }), t("members.withdrawn", { email: item.email })),
      }, t("members.withdraw")));
  }

  function inviteForm() {
    const email = h("input", { type: "email", name: "email", required: true, maxlength: 320, autocomplete: "off" });
    const role = h("select", { name: "role" },
      ROLE_NAMES.map(([code, key]) => h("option", { value: code, selected: code === "member" }, t(key))));
    const formStatus = statusLine();
    const form = h("form", { class: "stack", "aria-label": t("members.inviteTitle") },
      field(t("members.email"), email, t("members.emailHint")),
      field(t("members.role"), role), h("button", { type: "submit", class: "primary" }, t("members.send")), formStatus.element);
    onSubmit(form, formStatus, async () => {
      const sent = await api("/auth/household/invitations", { method: "POST",
        body: { email: email.value.trim(), role: role.value } });
      await load();
      // `load` replaced the card; tell the person on the new form.
      inviteCard.querySelector("form .status")?.replaceWith(h("p", { class: "status ok", role: "status",
        text: t("members.sent", { email: sent.email }) }));
    });
    return form;
  }

  try {
    await load();
  } catch (error) {
    status.error(error.message);
  }
}
