// #/categories — the household's categories in their groups: create, rename or move to another group,
// archive, and merge one into another (its whole history moves to the target, and it is archived).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { fillSelect } from "../panels/panel.js";
import { ledgerNav } from "./ledger.js";

const KINDS = [["expense", "Expenses"], ["income", "Income"]];

export async function renderCategories(container) {
  const status = statusLine();
  const lists = h("div", { class: "stack" });
  const archived = h("ul", { class: "rows" });
  container.append(ledgerNav("/categories"), h("h1", { text: "Categories" }), status.element,
    h("section", { class: "card" }, lists, h("details", {}, h("summary", { text: "Archived" }), archived)));

  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const group = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const kind = h("select", { required: true });
  fillSelect(kind, KINDS.map(([value, label]) => ({ value, label })));
  const createStatus = statusLine();
  const create = h("form", { class: "stack", "aria-label": "New category" }, h("h2", { text: "New category" }),
    h("div", { class: "row" }, field("Name", name), field("Group", group), field("Kind", kind)),
    h("button", { type: "submit", class: "primary" }, "Create"), createStatus.element);
  container.append(h("section", { class: "card" }, create));

  async function run(request, message) {
    status.clear();
    try {
      await request();
      status.ok(message);
    } catch (error) {
      status.error(error.message);
    }
    await load().catch((error) => status.error(error.message));
  }

  function item(category, all) {
    const newName = h("input", { type: "text", required: true, maxlength: 100, value: category.name });
    const newGroup = h("input", { type: "text", required: true, maxlength: 100, value: category.group });
    const rename = h("form", { class: "row", "aria-label": `Rename ${category.name}` },
      field("Name", newName), field("Group", newGroup), h("button", { type: "submit", class: "small" }, "Rename"));
    const renameStatus = statusLine();
    onSubmit(rename, renameStatus, () => run(() => api(`/ledger/categories/${category.id}`, { method: "PATCH",
      body: { name: newName.value.trim(), group: newGroup.value.trim() } }), "Renamed."));
    const into = h("select", {});
    fillSelect(into, all.filter((c) => c.kind === category.kind && c.id !== category.id)
      .map((c) => ({ value: c.id, label: `${c.group} › ${c.name}` })), "Merge into…");
    const merge = h("form", { class: "row", "aria-label": `Merge ${category.name}` }, field("Merge into", into),
      h("button", { type: "submit", class: "small" }, "Merge"));
    onSubmit(merge, renameStatus, async () => {
      const target = all.find((c) => c.id === into.value);
      if (!target) return renameStatus.error("Choose the category to merge into.");
      if (!window.confirm(`Move every transaction of ${category.name} to ${target.name} and archive `
        + `${category.name}?`)) return undefined;
      return run(() => api(`/ledger/categories/${category.id}/merge`, { method: "POST",
        body: { into_category_id: target.id } }), `Merged ${category.name} into ${target.name}.`);
    });
    return h("li", { class: "stack" },
      h("details", {}, h("summary", { text: category.name }), rename, merge,
        h("button", { type: "button", class: "small", onclick: () => run(() => api(
          `/ledger/categories/${category.id}/archive`, { method: "POST" }), `Archived ${category.name}.`) },
        `Archive ${category.name}`), renameStatus.element));
  }

  async function load() {
    const { items } = await api("/ledger/categories?include_archived=true");
    const open = items.filter((c) => !c.archived);
    replace(lists, KINDS.map(([k, label]) => {
      const groups = [...new Set(open.filter((c) => c.kind === k).map((c) => c.group))];
      return h("section", {}, h("h2", { text: label }), groups.map((g) => h("div", {},
        h("h3", { text: g }), h("ul", { class: "rows" },
          open.filter((c) => c.kind === k && c.group === g).map((c) => item(c, open))))));
    }));
    const gone = items.filter((c) => c.archived);
    const names = new Map(items.map((c) => [c.id, c.name]));
    replace(archived, gone.length ? gone.map((c) => h("li", { text: c.merged_into
      ? `${c.name} (merged into ${names.get(c.merged_into) ?? "another category"})` : c.name }))
      : h("li", { class: "empty", text: "None." }));
  }

  onSubmit(create, createStatus, async () => {
    const made = await api("/ledger/categories", { method: "POST", body: { name: name.value.trim(),
      group: group.value.trim(), kind: kind.value } });
    createStatus.ok(`Created ${made.name}.`);
    name.value = "";
    await load();
  });
  await load().catch((error) => status.error(error.message));
  return undefined;
}
