// Shared by the screens that open from a mailed link (#/verify?token=…, #/reset?token=…).

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
