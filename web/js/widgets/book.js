// The household's book: every account and category by id (archived ones too, for names in old entries),
// and the categories to choose from. Shared by the ledger screens and the bulk bar.

import { api } from "../api.js";

/** Every account and category of the household (archived ones too, for names in old entries). */
export async function loadBook() {
  const [{ items: accounts }, { items: categories }] = await Promise.all([
    api("/ledger/accounts?include_archived=true"),
    api("/ledger/categories?include_archived=true"),
  ]);
  return {
    accounts,
    categories,
    account: new Map(accounts.map((a) => [a.id, a])),
    category: new Map(categories.map((c) => [c.id, c])),
  };
}

/** "Group › Name" options for the open categories of a kind. */
export function categoryChoices(book, kind) {
  return book.categories.filter((c) => !c.archived && (!kind || c.kind === kind))
    .map((c) => ({ value: c.id, label: `${c.group} › ${c.name}` }));
}
