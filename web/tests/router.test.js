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
    this.attributes = {};
  }

  setAttribute(name, value) { this.attributes[name] = String(value); }

  removeAttribute(name) { delete this.attributes[name]; }

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
const { createRouter, currentPath, param, params } = await import("../js/router.js");

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

test("the outlet is busy while a screen is drawn, and only until the newest render ends", async () => {
  const outlet = new FakeElement("main", "document");
  const gates = { "/": gate(), "/transactions": gate() };
  const router = createRouter({
    outlet,
    routes: {
      "/": async (view) => { await gates["/"].opened; view.append(new FakeElement("home")); },
      "/transactions": async (view) => { await gates["/transactions"].opened; view.append(new FakeElement("list")); },
    },
  });
  window.location.hash = "#/";
  const first = router.start();
  assert.equal(outlet.attributes["aria-busy"], "true");
  assert.equal(outlet.attributes["data-route"], "/");
  window.location.hash = "#/transactions";
  const second = listeners.hashchange();
  gates["/"].open();
  await first;
  assert.equal(outlet.attributes["aria-busy"], "true", "the overtaken render does not end the newer one's");
  gates["/transactions"].open();
  await second;
  await new Promise((resolve) => { setImmediate(resolve); }); // the hashchange listener returns nothing to await
  assert.equal(outlet.attributes["aria-busy"], undefined);
  assert.equal(outlet.attributes["data-route"], "/transactions");
  assert.deepEqual(shown(outlet), ["list"]);
});

test("a screen that fails to draw does not leave the outlet busy", async () => {
  const outlet = new FakeElement("main", "document");
  const router = createRouter({ outlet, routes: { "/": async () => { throw new Error("no"); } } });
  window.location.hash = "#/";
  await assert.rejects(router.start());
  assert.equal(outlet.attributes["aria-busy"], undefined);
});

test("the route and the query are read from the location hash", () => {
  window.location.hash = "#/transaction?id=t-1&q=a%20b";
  assert.equal(currentPath(), "/transaction");
  assert.equal(param("id"), "t-1");
  assert.equal(param("q"), "a b");
  assert.equal(param("absent"), null);
  assert.deepEqual([...params().keys()], ["id", "q"]);
  window.location.hash = "#/budgets";
  assert.equal(currentPath(), "/budgets");
  assert.equal(params().toString(), "");
  window.location.hash = "";
  assert.equal(currentPath(), "/");
  assert.equal(param("id"), null);
});
