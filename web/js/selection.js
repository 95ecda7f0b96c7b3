// Which rows of a list are selected and which one the keyboard is on: plain state, no DOM, so the
// register's keys (j/k to move, x to toggle, shift+j/k to extend) and clicks (shift for a range) are
// tested on their own. `ids` is the list's rows in order, as shown.

export class Selection {
  constructor() {
    this.selected = new Set();
    this.current = -1; // the row the keyboard is on (-1: none yet)
    this.anchor = -1; // where a shift-click or shift+j/k range starts
    this.everyMatch = false; // every row the search matches, on this page and the next ones
  }

  get size() {
    return this.selected.size;
  }

  has(id) {
    return this.everyMatch || this.selected.has(id);
  }

  /** Move the keyboard's row by `step`, within the list; returns the new index. */
  move(ids, step) {
    if (!ids.length) return -1;
    this.current = this.current < 0 ? 0 : Math.min(ids.length - 1, Math.max(0, this.current + step));
    return this.current;
  }

  /** A click or `x` on a row: it changes, and a later range starts there. */
  toggle(ids, index) {
    this.leaveEveryMatch(ids);
    const id = ids[index];
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.current = index;
    this.anchor = index;
  }

  /** A shift-click: every row from the anchor (or the first row) to `index` is selected. */
  rangeTo(ids, index) {
    this.leaveEveryMatch(ids);
    const from = this.anchor < 0 ? index : this.anchor;
    for (let n = Math.min(from, index); n <= Math.max(from, index); n += 1) this.selected.add(ids[n]);
    this.current = index;
  }

  /** shift+j / shift+k: the row the keyboard is on and the next one in that direction are selected. */
  extend(ids, step) {
    if (!ids.length) return;
    if (this.current < 0) this.current = 0;
    this.leaveEveryMatch(ids);
    this.selected.add(ids[this.current]);
    this.move(ids, step);
    this.selected.add(ids[this.current]);
  }

  /** Every row the search matches, also those not loaded yet (what a change then names is the search). */
  selectEveryMatch() {
    this.everyMatch = true;
  }

  /** Back from "every match" to the rows shown, so one of them can be left out. */
  leaveEveryMatch(ids) {
    if (!this.everyMatch) return;
    this.everyMatch = false;
    this.selected = new Set(ids);
  }

  clear() {
    this.selected.clear();
    this.everyMatch = false;
    this.anchor = -1;
  }

  /** The selected ids in the list's order (those no longer shown are dropped). */
  ids(ids) {
    return ids.filter((id) => this.selected.has(id));
  }
}

/** What a key does in the register: "down", "up", "extendDown", "extendUp", "toggle", "edit", "cancel". */
export function registerKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const key = event.key;
  if (key === "J" || (key === "ArrowDown" && event.shiftKey)) return "extendDown";
  if (key === "K" || (key === "ArrowUp" && event.shiftKey)) return "extendUp";
  if (key === "j" || key === "ArrowDown") return "down";
  if (key === "k" || key === "ArrowUp") return "up";
  if (key === "x") return "toggle";
  if (key === "Enter") return "edit";
  if (key === "Escape") return "cancel";
  return null;
}
