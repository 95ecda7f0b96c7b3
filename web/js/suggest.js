// Fast entry from history: the payees used lately and, for a payee, the category (and kind and account)
// of its most recent transaction. Plain functions over transactions as the ledger lists them (newest
// first), so they are tested without a browser (web/tests/suggest.test.js).

const key = (payee) => String(payee ?? "").trim().toLocaleLowerCase();

/** The distinct payees of `transactions` (newest first), as first written, at most `limit`. */
export function recentPayees(transactions, limit = 8) {
  const seen = new Map();
  for (const transaction of transactions) {
    const name = String(transaction.payee ?? "").trim();
    if (name && transaction.kind !== "transfer" && !seen.has(key(name))) seen.set(key(name), name);
    if (seen.size >= limit) break;
  }
  return [...seen.values()];
}

/**
 * What to suggest for `payee`: { category_id, kind, account_id } from its newest transaction that has a
 * category (transfers and split transactions say nothing about one category), or null.
 */
export function suggestionFor(transactions, payee) {
  const wanted = key(payee);
  if (!wanted) return null;
  const match = transactions.find((transaction) => key(transaction.payee) === wanted
    && transaction.kind !== "transfer" && transaction.category_id);
  return match ? { category_id: match.category_id, kind: match.kind, account_id: match.account_id } : null;
}
