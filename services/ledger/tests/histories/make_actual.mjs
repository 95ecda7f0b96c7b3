// Makes the Actual Budget export the ledger's history import is tested with, using Actual's own code
// (@actual-app/api, pinned in package.json): a small household budget built through Actual's API,
// exported by Actual's own exportBudget() to actual_household.zip, and the figures Actual itself
// computes for it (balance of every account, total per category per month) to actual_household.json.
//
//   cd services/ledger/tests/histories && npm ci && node make_actual.mjs
//
// Everything is fixed (dates, amounts, names): run again, the figures come out the same (the zip's
// row ids are Actual's random ones, so the zip itself differs).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as api from '@actual-app/api';

const HERE = dirname(fileURLToPath(import.meta.url));
const ZIP = join(HERE, 'actual_household.zip');
const FIGURES = join(HERE, 'actual_household.json');
const MONTHS = ['2025-01', '2025-02', '2025-03', '2025-04'];

const dataDir = mkdtempSync(join(tmpdir(), 'actual-fixture-'));
await api.init({ dataDir });

await api.runImport('Household', build);
// runImport leaves the budget it made loaded; export it the way Actual's "Export data" does.
const zipped = await api.exportBudget();
writeFileSync(ZIP, Buffer.from(zipped));

const figures = await compute();
writeFileSync(FIGURES, JSON.stringify(figures, null, 2) + '\n');
await api.shutdown();
rmSync(dataDir, { recursive: true, force: true });
console.log(`wrote ${ZIP} (${zipped.length} bytes) and ${FIGURES}`);

async function build() {
  // --- categories: Actual's import mode keeps only its income group ("Income", "Starting Balances")
  const groups = {
    Food: ['Groceries', 'Restaurants', 'Coffee', 'Snacks'],
    Home: ['Rent', 'Utilities', 'Internet'],
    Transport: ['Fuel', 'Public transport'],
    Leisure: ['Entertainment', 'Books', 'Travel'],
    Health: ['Pharmacy'],
  };
  const cat = {};
  for (const [group, names] of Object.entries(groups)) {
    const groupId = await api.createCategoryGroup({ name: group });
    for (const name of names) cat[name] = await api.createCategory({ name, group_id: groupId });
  }
  const incomeGroup = (await api.getCategoryGroups()).find((g) => g.is_income);
  for (const name of ['Salary', 'Interest']) {
    cat[name] = await api.createCategory({ name, group_id: incomeGroup.id, is_income: true });
  }
  for (const c of await api.getCategories()) cat[c.name] ??= c.id; // Income, Starting Balances

  // --- accounts, each with its starting balance (Actual books it today: move it to the history's start)
  const acct = {};
  acct.checking = await api.createAccount({ name: 'Checking', offbudget: false }, 250000);
  acct.savings = await api.createAccount({ name: 'Savings', offbudget: false }, 1000000);
  acct.card = await api.createAccount({ name: 'Old Credit Card', offbudget: false }, -12050);
  for (const id of Object.values(acct)) {
    const [start] = await api.getTransactions(id, '2000-01-01', '2100-12-31');
    await api.updateTransaction(start.id, { date: '2025-01-01', notes: 'Opening balance' });
  }
  const transferPayee = {};
  for (const p of await api.getPayees()) {
    for (const [key, id] of Object.entries(acct)) if (p.transfer_acct === id) transferPayee[key] = p.id;
  }

  const rows = { checking: [], savings: [], card: [] };
  const add = (account, date, amount, payee, category, extra = {}) =>
    rows[account].push({ date, amount, payee_name: payee, category: category && cat[category], ...extra });

  MONTHS.forEach((m, i) => {
    add('checking', `${m}-01`, 320000, 'ACME Corp', 'Salary', { notes: `Salary ${m}`, cleared: true });
    add('checking', `${m}-02`, -95000, 'Landlord Ltd', 'Rent', { cleared: true });
    add('checking', `${m}-05`, -6420 - i * 310, 'City Power', 'Utilities', { cleared: true });
    add('checking', `${m}-07`, -3999, 'FiberNet', 'Internet', { cleared: i < 3 });
    add('checking', `${m}-09`, -8734 + i * 125, 'FreshMart', 'Groceries', { cleared: i < 3 });
    add('checking', `${m}-16`, -6512 - i * 47, 'FreshMart', 'Groceries', { cleared: i < 3 });
    add('checking', `${m}-12`, -450, 'Bean There', 'Coffee', { cleared: false });
    add('checking', `${m}-20`, -5400, 'Shell', 'Fuel', { notes: i === 1 ? 'road trip' : '' });
    add('savings', `${m}-28`, 812 + i * 3, 'Savings Bank', 'Interest', { cleared: true });
  });
  // January–February on the card that was closed since; it is paid off in full below.
  add('card', '2025-01-10', -4599, 'Cinema City', 'Entertainment', { cleared: true });
  add('card', '2025-01-18', -2350, 'Page Turner', 'Books', { cleared: true });
  add('card', '2025-02-03', -18900, 'SkyHigh Air', 'Travel', { notes: 'Flight to Lisbon', cleared: true });
  add('card', '2025-02-14', -6200, 'Chez Nous', 'Restaurants', { cleared: true });
  add('card', '2025-02-20', 1500, 'Page Turner', 'Books', { notes: 'refund: damaged copy', cleared: true });
  add('checking', '2025-01-22', -1980, 'City Transit', 'Public transport');
  add('checking', '2025-02-22', -1980, 'City Transit', 'Public transport');
  add('checking', '2025-03-22', -2150, 'City Transit', 'Public transport');
  add('checking', '2025-03-11', -1275, 'Corner Pharmacy', 'Pharmacy', { notes: 'allergy meds' });
  add('checking', '2025-03-25', -3890, 'Trattoria Roma', 'Restaurants');
  add('checking', '2025-04-04', -2399, 'StreamFlix', 'Entertainment');
  add('checking', '2025-04-15', -700, 'Vending Co', 'Snacks'); // Snacks is deleted into Groceries below
  add('checking', '2025-04-18', -15000, 'Grandma', null, { notes: 'birthday present, not categorised' });
  // Two split transactions: one purchase on several categories.
  add('checking', '2025-02-26', -12480, 'MegaStore', null, {
    notes: 'weekly shop + a book', cleared: true,
    subtransactions: [
      { amount: -9480, category: cat.Groceries },
      { amount: -3000, category: cat.Books, notes: 'cookbook' },
    ],
  });
  add('checking', '2025-04-12', -8210, 'Pharma Plus', null, {
    subtransactions: [
      { amount: -2710, category: cat.Pharmacy, notes: 'vitamins' },
      { amount: -3500, category: cat.Groceries },
      { amount: -2000, category: cat.Snacks },
    ],
  });
  // A transaction entered by mistake and deleted: its row stays as a tombstone.
  add('checking', '2025-03-03', -99999, 'Typo Inc', 'Groceries', { notes: 'entered by mistake' });

  for (const [account, list] of Object.entries(rows)) await api.addTransactions(acct[account], list);

  // Three transfers, each one Actual transaction in each account (linked by transfer_id).
  await api.addTransactions(acct.checking, [
    { date: '2025-01-29', amount: -50000, payee: transferPayee.savings, notes: 'monthly saving', cleared: true },
    { date: '2025-03-29', amount: -75000, payee: transferPayee.savings, notes: 'monthly saving' },
  ], { runTransfers: true });
  const cardLeft = await api.getAccountBalance(acct.card);
  await api.addTransactions(acct.checking, [
    { date: '2025-02-28', amount: cardLeft, payee: transferPayee.card, notes: 'pay off the card', cleared: true },
  ], { runTransfers: true });

  // Budgets, envelope budgeting (Actual's default): amounts per category and month, null never set (a
  // month without a row, which Actual shows as nothing budgeted), 0 set to nothing. Snacks' amounts go
  // into Groceries when Snacks is deleted below. Travel carries overspending into the next month (the
  // carryover flag, which Actual sets from that month to the last month it has made).
  const budgets = {
    Groceries: [25000, 25000, 27000, 27000],
    Snacks: [2000, 2000, 2000, 2000],
    Rent: [95000, 95000, 95000, 95000],
    Restaurants: [5000, 0, 8000, null],
    Travel: [5000, 5000, 5000, 5000],
    Entertainment: [null, null, null, 3000],
  };
  for (const [name, amounts] of Object.entries(budgets)) {
    for (const [i, amount] of amounts.entries()) {
      if (amount !== null) await api.setBudgetAmount(MONTHS[i], cat[name], amount);
    }
  }
  await api.setBudgetCarryover(MONTHS[0], cat.Travel, true);

  const all = await api.getTransactions(acct.checking, '2000-01-01', '2100-12-31');
  const typo = all.find((t) => t.amount === -99999);
  await api.deleteTransaction(typo.id);
  // January's rent was reconciled with the bank statement.
  const rent = all.find((t) => t.date === '2025-01-02' && t.amount === -95000);
  await api.updateTransaction(rent.id, { reconciled: true });
  // Snacks was given up and deleted: its transactions move to Groceries (a category mapping in Actual).
  await api.deleteCategory(cat.Snacks, cat.Groceries);
  await api.closeAccount(acct.card);
}

async function compute() {
  const accounts = await api.getAccounts();
  const categories = await api.getCategories();
  const name = Object.fromEntries(categories.map((c) => [c.id, c.name]));
  const balances = {};
  const counts = {};
  for (const a of accounts) {
    balances[a.name] = await api.getAccountBalance(a.id);
    counts[a.name] = { closed: a.closed, offbudget: a.offbudget };
  }
  // Total per category per month: from Actual's transactions (split parts on their own categories)...
  const byCategory = {};
  const { data } = await api.aqlQuery(
    api.q('transactions').options({ splits: 'inline' }).select(['id', 'date', 'amount', 'category', 'account']),
  );
  for (const t of data) {
    if (!t.category) continue;
    const c = name[t.category];
    const month = t.date.slice(0, 7);
    byCategory[c] ??= {};
    byCategory[c][month] = (byCategory[c][month] ?? 0) + t.amount;
  }
  // ...and, as a check, from Actual's own budget sheet: spent (expense) or received (income) per month.
  const sheet = {};
  for (const month of MONTHS) {
    const m = await api.getBudgetMonth(month);
    for (const group of m.categoryGroups) {
      for (const c of group.categories ?? []) {
        const amount = group.is_income ? c.received : c.spent;
        if (amount) {
          sheet[c.name] ??= {};
          sheet[c.name][month] = amount;
        }
      }
    }
  }
  if (JSON.stringify(sort(sheet)) !== JSON.stringify(sort(byCategory))) {
    throw new Error(`Actual's budget sheet and its transactions disagree:\n${JSON.stringify({ sheet, byCategory })}`);
  }
  // What Actual's budget sheet says of every expense category budgeted in some month: the amount
  // budgeted each month, and the balance left at its end (with what carried in from the month before).
  const budgeted = {};
  const leftover = {};
  for (const month of MONTHS) {
    const m = await api.getBudgetMonth(month);
    for (const group of m.categoryGroups) {
      if (group.is_income) continue;
      for (const c of group.categories ?? []) {
        budgeted[c.name] ??= {};
        leftover[c.name] ??= {};
        budgeted[c.name][month] = c.budgeted;
        leftover[c.name][month] = c.balance;
      }
    }
  }
  for (const name of Object.keys(budgeted)) {
    if (Object.values(budgeted[name]).every((amount) => !amount)) {
      delete budgeted[name];
      delete leftover[name];
    }
  }
  const rows = (await api.aqlQuery(api.q('transactions').options({ splits: 'all' }).select(['id']))).data;
  return {
    source: '@actual-app/api 26.9.0, services/ledger/tests/histories/make_actual.mjs',
    accounts: counts,
    balance_minor: balances,
    category_month_minor: sort(byCategory),
    budgeted_minor: sort(budgeted),
    category_balance_minor: sort(leftover),
    transactions_in_actual: rows.length,
    months: MONTHS,
  };
}

function sort(object) {
  return Object.fromEntries(
    Object.entries(object)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, typeof v === 'object' ? sort(v) : v]),
  );
}
