// Run with: node --test web/tests/
// The router against a minimal stand-in for the DOM: a render overtaken by a newer one must not draw
// beside it (found when a slow home screen finished after "g t" had opened the transactions screen).
import assert from "node:assert/strict";
import { test } from "node:test";

class FakeElement {
  constructor(tag, root = null) {
    this.tag = tag;
    this.children = [];
    this.parent = null;
    this.root = root;
  }

  get isConnected() {
    let node = this;
    while (node.parent) node = node.parent;
    return node.root === "document";
  }

  append(...nodes) {
    for (const node of nodes) {
      node.parent = this;
      this.children.push(node);
    }
  }

  replaceChildren(...nodes) {
    for (const child of this.children) child.parent = null;
    this.children = [];
    this.append(...nodes);
  }

  querySelector() { return null; }

  contains() { return false; }

  focus() {}
}

const listeners = {};
globalThis.window = {
  location: { hash: "" },
  history: { replaceState: (_state, _title, hash) => { window.location.hash = hash; } },
  addEventListener: (name, listener) => { listeners[name] = listener; },
};
globalThis.document = { title: "", activeElement: null, createElement: (tag) => new FakeElement(tag) };
const { createRouter } = await import("../js/router.js");

function gate() {
  let open;
  const opened = new Promise((resolve) => { open = resolve; });
  return { open, opened };
}

function shown(outlet) {
  return outlet.children.flatMap((view) => view.children.map((child) => child.tag));
}

test("a screen still loading when another is opened does not draw beside it", async () => {
  const outlet = new FakeElement("main", "document");
  const slow = gate();
  const router = createRouter({
    outlet,
    routes: {
      "/": async (view) => { await slow.opened; view.append(new FakeElement("home")); },
      "/transactions": async (view) => { view.append(new FakeElement("transactions")); },
    },
  });
  window.location.hash = "#/";
  const first = router.start();
  window.location.hash = "#/transactions";
  const second = listeners.hashchange();
  await second;
  slow.open();
  await first;
  assert.deepEqual(shown(outlet), ["transactions"]);
});

test("a refresh while the same screen loads shows it once", async () => {
  const outlet = new FakeElement("main", "document");
  const gates = [gate(), gate()];
  let renders = 0;
  const router = createRouter({
    outlet,
    routes: {
      "/": async (view) => {
        const mine = gates[renders++];
        await mine.opened;
        view.append(new FakeElement("home"));
      },
    },
  });
  window.location.hash = "#/";
  const first = router.start();
  const second = router.refresh();
  gates[1].open();
  await second;
  gates[0].open();
  await first;
  assert.deepEqual(shown(outlet), ["home"]);
  assert.equal(outlet.children.length, 1);
});
