// #/categories — the household's categories in their groups: create, rename or move to another group,
// archive, and merge one into another (its whole history moves to the target, and it is archived).

import { api } from "../api.js";
import { field, h, onSubmit, replace, statusLine } from "../dom.js";
import { t } from "../i18n.js";
import { fillSelect } from "../widgets/inputs.js";
import { ledgerNav } from "../widgets/ledgernav.js";

const KINDS = [["expense", "categories.expenses"], ["income", "categories.income"]];

export async function renderCategories(container) {
  const status = statusLine();
  const lists = h("div", { class: "stack" });
  const archived = h("ul", { class: "rows" });
  container.append(ledgerNav("/categories"), h("h1", { text: t("categories.title") }), status.element,
    h("section", { class: "card" }, lists, h("details", {}, h("summary", { text: t("categories.archived") }),
      archived)));

  const name = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const group = h("input", { type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const kind = h("select", { required: true });
  fillSelect(kind, KINDS.map(([value, key]) => ({ value, label: t(key) })));
  const createStatus = statusLine();
  const create = h("form", { class: "stack", "aria-label": t("categories.new") },
    h("h2", { text: t("categories.new") }),
    h("div", { class: "row" }, field(t("categories.name"), name), field(t("categories.group"), group),
      field(t("categories.kind"), kind)),
    h("button", { type: "submit", class: "primary" }, t("categories.create")), createStatus.element);
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
    const rename = h("form", { class: "row", "aria-label": t("categories.renameNamed", { name: category.name }) },
      field(t("categories.name"), newName), field(t("categories.group"), newGroup),
      h("button", { type: "submit", class: "small" }, t("categories.rename")));
    const renameStatus = statusLine();
    onSubmit(rename, renameStatus, () => run(() => api(`/ledger/categories/${category.id}`, { method: "PATCH",
      body: { name: newName.value.trim(), group: newGroup.value.trim() } }), t("categories.renamed")));
    const into = h("select", {});
    fillSelect(into, all.filter((c) => c.kind === category.kind && c.id !== category.id)
      .map((c) => ({ value: c.id, label: `${c.group} › ${c.name}` })), t("categories.mergeIntoChoice"));
    const merge = h("form", { class: "row", "aria-label": t("categories.mergeNamed", { name: category.name }) },
      field(t("categories.mergeInto"), into), h("button", { type: "submit", class: "small" }, t("categories.merge")));
    onSubmit(merge, renameStatus, async () => {
      const target = all.find((c) => c.id === into.value);
      if (!target) return renameStatus.error(t("categories.chooseTarget"));
      if (!window.confirm(t("categories.mergeConfirm", { name: category.name, target: target.name }))) return undefined;
      return run(() => api(`/ledger/categories/${category.id}/merge`, { method: "POST",
        body: { into_category_id: target.id } }), t("categories.merged", { name: category.name, target: target.name }));
    });
    return h("li", { class: "stack" },
      h("details", {}, h("summary", { text: category.name }), rename, merge,
        h("button", { type: "button", class: "small", onclick: () => run(() => api(
          `/ledger/categories/${category.id}/archive`, { method: "POST" }),
        t("categories.archivedDone", { name: category.name })) },
        t("categories.archiveNamed", { name: category.name })), renameStatus.element));
  }

  async function load() {
    const { items } = await api("/ledger/categories?include_archived=true");
    const open = items.filter((c) => !c.archived);
    replace(lists, KINDS.map(([k, key]) => {
      const groups = [...new Set(open.filter((c) => c.kind === k).map((c) => c.group))];
      return h("section", {}, h("h2", { text: t(key) }), groups.map((g) => h("div", {},
        h("h3", { text: g }), h("ul", { class: "rows" },
          open.filter((c) => c.kind === k && c.group === g).map((c) => item(c, open))))));
    }));
    const gone = items.filter((c) => c.archived);
    const names = new Map(items.map((c) => [c.id, c.name]));
    replace(archived, gone.length ? gone.map((c) => h("li", { text: c.merged_into
      ? t("categories.mergedInto", { name: c.name, target: names.get(c.merged_into) ?? t("categories.anotherCategory") })
      : c.name }))
      : h("li", { class: "empty", text: t("categories.none") }));
  }

  onSubmit(create, createStatus, async () => {
    const made = await api("/ledger/categories", { method: "POST", body: { name: name.value.trim(),
      group: group.value.trim(), kind: kind.value } });
    createStatus.ok(t("categories.created", { name: made.name }));
    name.value = "";
    await load();
  });
  await load().catch((error) => status.error(error.message));
  return undefined;
}
