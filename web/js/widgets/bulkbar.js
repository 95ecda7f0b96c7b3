// The bar of changes to the selected transactions (#/transactions): recategorise, add or remove a tag,
// change the payee, mark cleared or uncleared, move to another account, delete. Each button asks
// `change(body)` for one bulk change of the ledger; the screen says which transactions it names.

import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import { categoryChoices } from "../widgets/book.js";
import { fillSelect } from "../widgets/inputs.js";

export function bulkBar(book, { change, selectEveryMatch, clear }) {
  const count = h("p", { class: "grow", "aria-live": "polite" });
  const everyMatch = h("button", { type: "button", onclick: selectEveryMatch });
  const category = h("select", { name: "bulk_category" });
  fillSelect(category, categoryChoices(book, null), t("transactions.bulk.chooseCategory"));
  const tag = h("input", { type: "text", name: "bulk_tag", maxlength: 50, autocomplete: "off" });
  const payee = h("input", { type: "text", name: "bulk_payee", maxlength: 200, autocomplete: "off" });
  const account = h("select", { name: "bulk_account" });
  fillSelect(account, book.accounts.filter((a) => !a.archived).map((a) => ({ value: a.id, label: a.name })),
    t("transactions.bulk.chooseAccount"));

  const button = (label, action, className = null) => h("button", { type: "button", class: className,
    onclick: () => { action(); } }, label);
  const needs = (input, body) => () => {
    if (!input.value.trim()) {
      input.focus();
      return;
    }
    change(body(input.value.trim()));
  };

  const element = h("section", { class: "card bulk", "aria-label": t("transactions.bulk.title"), hidden: true },
    h("div", { class: "row" }, count, everyMatch,
      button(t("transactions.bulk.clear"), clear)),
    h("div", { class: "row" },
      field(t("transactions.bulk.category"), category),
      button(t("transactions.bulk.recategorise"), needs(category, (id) => ({ category_id: id }))),
      field(t("transactions.bulk.tag"), tag),
      button(t("transactions.bulk.addTag"), needs(tag, (name) => ({ add_tags: [name] }))),
      button(t("transactions.bulk.removeTag"), needs(tag, (name) => ({ remove_tags: [name] })))),
    h("div", { class: "row" },
      field(t("transactions.bulk.payee"), payee),
      button(t("transactions.bulk.changePayee"), needs(payee, (name) => ({ payee: name }))),
      field(t("transactions.bulk.account"), account),
      button(t("transactions.bulk.move"), needs(account, (id) => ({ account_id: id })))),
    h("div", { class: "row" },
      button(t("transactions.bulk.cleared"), () => change({ status: "cleared" })),
      button(t("transactions.bulk.uncleared"), () => change({ status: "uncleared" })),
      button(t("transactions.bulk.delete"), () => change({ delete: true }), "danger")));

  return {
    element,
    /** Show how many are selected, and offer every match when the search has more than that. */
    update(selected, matching, all) {
      element.hidden = selected === 0 && !all;
      count.textContent = all ? t("transactions.bulk.everySelected", { count: matching })
        : t("transactions.bulk.selected", { count: selected });
      everyMatch.hidden = all || matching <= selected;
      everyMatch.textContent = t("transactions.bulk.selectEvery", { count: matching });
    },
  };
}
