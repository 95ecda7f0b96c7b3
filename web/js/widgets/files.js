// Files to and from the server — statements and histories to import, rates, receipts, exports, statements:
// a form's file or a file as the answer, so not through api() (JSON). The session's access token is
// refreshed by a JSON request first, and a failure is an ApiError with the problem in a sentence, as api()'s.

import { ApiError, api, humanMessage } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

/** `fetch` of `/api${path}` with the session's access token (and `form`, a FormData, as the body). */
export async function fileRequest(path, { method = "GET", form = undefined } = {}) {
  await api("/auth/me"); // refreshes the access token if it has expired
  let response;
  try {
    response = await fetch(`/api${path}`, { method, body: form, cache: "no-store", credentials: "same-origin",
      headers: { Authorization: `Bearer ${sessionStorage.getItem("tally.accessToken") ?? ""}` } });
  } catch {
    throw new ApiError(0, t("api.unreachable"));
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new ApiError(response.status, humanMessage(response.status, problem), problem);
  }
  return response;
}

/** Hands `blob` to the browser as a download named `filename`. */
export function saveBlob(blob, filename, { keepMs = 10_000 } = {}) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), keepMs);
}

/** Downloads the file at `path` (an export, a statement) as `filename`. */
export async function download(path, filename) {
  saveBlob(await (await fileRequest(path)).blob(), filename);
}
