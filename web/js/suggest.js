// Fast entry: the payees used lately (from the transactions the form read), the kind and account a payee
// went with last time, and the category the ledger suggests as the payee is typed (GET
// /ledger/categories/suggest: the household's rules, then its learned categoriser). Plain functions, so
// they are tested without a browser (web/tests/suggest.test.js).

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

/** { kind, account_id } of the newest expense or income paid to `payee`, or null. */
export function lastUseOf(transactions, payee) {
  const wanted = key(payee);
  if (!wanted) return null;
  const match = transactions.find((transaction) => key(transaction.payee) === wanted && transaction.kind !== "transfer");
  return match ? { kind: match.kind, account_id: match.account_id } : null;
}

/**
 * The ledger's likeliest suggestion in its answer, and whether to preselect it: only at or above the
 * household's threshold (`accept_above_pct`), the one an import would take on its own. Null for none.
 */
export function bestSuggestion(answer) {
  const best = answer?.items?.[0];
  if (!best) return null;
  return { ...best, preselect: Math.round(best.confidence * 100) >= (answer.accept_above_pct ?? 90) };
}

/**
 * Asks `fetcher(params, signal)` once the input has rested `delayMs`, cancelling the request of any
 * earlier input still under way, so only the answer to the latest input reaches `onAnswer` (null for
 * none, a failure, or `ask(null)`: nothing to ask about).
 */
export function latestOnly(fetcher, onAnswer, delayMs = 150) {
  let timer = null;
  let controller = null;

  function cancel() {
    clearTimeout(timer);
    timer = null;
    controller?.abort();
    controller = null;
  }

  function ask(params) {
    cancel();
    if (params === null) {
      onAnswer(null);
      return;
    }
    timer = setTimeout(async () => {
      const mine = new AbortController();
      controller = mine;
      let answer = null;
      try {
        answer = await fetcher(params, mine.signal);
      } catch {
        answer = null; // no suggestion is fine: the person picks a category
      }
      if (mine.signal.aborted) return;
      controller = null;
      onAnswer(answer);
    }, delayMs);
  }

  return { ask, cancel };
}
