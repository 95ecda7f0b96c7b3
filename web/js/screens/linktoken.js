// Shared by the screens that open from a mailed link (#/verify?token=…, #/reset?token=…).

import { formatDateTime } from "../format.js";
import { param } from "../router.js";

/**
 * The link's token, read once: the address bar is rewritten without it, so it stays out of the history
 * (and the gateway sends no Referer anywhere).
 */
export function takeLinkToken(route) {
  const token = param("token");
  if (token) window.history.replaceState(null, "", `#${route}`);
  return token;
}

/** Formats an ISO timestamp for a list: "22 Nov 2026, 14:05" in the chosen language and the reader's time zone. */
export function when(iso) {
  return formatDateTime(iso);
}
