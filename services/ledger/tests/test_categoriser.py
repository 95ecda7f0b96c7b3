"""The learned categoriser's plain parts (no database): cleaning what banks write, the features, the
payee-history fallback with few examples, the model, keeping it as numbers, and odd input."""

from datetime import date

import numpy as np
import pytest

from tally_ledger.categoriser.features import N_FEATURES, Example, amount_bucket, featurize, tokens
from tally_ledger.categoriser.model import Categoriser, train
from tally_ledger.categoriser.text import clean, payee_keys

DAY = date(2025, 3, 14)  # a Friday
EXPENSE, INCOME = {"groceries": False, "fuel": False, "eating out": False}, {"salary": True}
USABLE = EXPENSE | INCOME


def ex(payee: str, amount: int = -1_000, note: str = "", account: str = "a", day: date = DAY) -> Example:
    return Example(payee, note, amount, account, day)


def test_cleaning_drops_card_numbers_dates_references_and_keeps_the_words() -> None:
    assert clean("VISA 4871XXXXXX1234 SHELL 1234 HAMBURG 12.03. 14:22") == "visa shell hamburg"
    assert clean("AMZN Mktp DE*2K4LM0ZQ5") == "amzn mktp de"
    assert clean("SUMUP *Café Rosa") == "sumup cafe rosa"
    assert clean("Kundennr 12345678 MANDAT DE89370400440532013000") == "kundennr mandat"
    assert clean("O2 Germany") == "o2 germany"  # a short name with a digit stays
    assert clean("nul\x00in\x00the\x00middle") == "nul in the middle"
    assert clean("") == ""


def test_payee_keys_go_from_exact_to_loose() -> None:
    assert payee_keys("REWE Markt GmbH Berlin") == ("rewe markt gmbh berlin", "rewe markt", "rewe")
    assert payee_keys("PAYPAL *SPOTIFY 35314369001") == ("paypal spotify", "spotify", "spotify")
    assert payee_keys("GmbH") == ("gmbh", "gmbh", "gmbh")  # nothing significant: the words as they are
    assert payee_keys("1234 5678") == ("", "", "")


def test_tokens_name_the_sign_size_account_and_days() -> None:
    found = tokens(ex("Shell Hamburg", -6_250, account="acc"))
    assert {"w:shell", "k1:shell", "k2:shell hamburg", "s:-", f"a:-{amount_bucket(-6_250)}", "acct:acc",
            "acct:acc|-", "dom:14", "dow:4"} <= set(found)
    assert "s:+" in tokens(ex("Employer", 300_000))
    assert [amount_bucket(a) for a in (0, 99, 100, 142, 200, 100_000)] == [0, 0, 1, 2, 3, 20]


def test_features_are_deterministic_sparse_rows_in_three_blocks() -> None:
    rows = [ex("REWE SAGT DANKE 4711"), ex("REWE SAGT DANKE 4712"), ex("Shell", note="Kartenzahlung")]
    first, again = featurize(rows), featurize(rows)
    assert first.shape == (3, N_FEATURES)
    assert (first != again).nnz == 0
    assert (first[0] != first[1]).nnz == 0  # only the store number differs, and it is noise
    assert first[2].indices.max() >= 2 * N_FEATURES // 3  # the token block
    assert np.all(first.data > 0)


def test_few_examples_fall_back_to_the_payees_most_recent_category() -> None:
    examples = [ex("REWE Berlin"), ex("REWE Hamburg"), ex("Shell 1234"), ex("REWE Berlin")]
    trained = train(examples, ["groceries", "groceries", "fuel", "eating out"])
    assert trained.method == "payee history"
    [[berlin], [hamburg], [munich], [shell], [unknown], [income]] = [
        s or [None] for s in trained.suggest(
            [ex("REWE BERLIN"), ex("rewe hamburg"), ex("REWE München"), ex("SHELL 999"), ex("Aral"),
             ex("REWE Berlin", 5_000)], USABLE)]
    # the exact payee's most recent category, its share of the payee counting one unknown (1 of 2 + 1)
    assert (berlin.category, round(berlin.confidence, 3)) == ("eating out", 0.333)
    assert berlin.source == "payee history"
    assert (hamburg.category, hamburg.confidence) == ("groceries", 0.5)
    assert (munich.category, munich.confidence) == ("eating out", 1 / 4)  # by its first word: 1 of 3 + 1
    assert (shell.category, shell.confidence) == ("fuel", 0.5)
    assert unknown is None
    assert income is None  # an income is never suggested an expense category


def test_one_category_only_is_a_payee_history_too() -> None:
    trained = train([ex(f"Shop {n}") for n in range(40)], ["groceries"] * 40)
    assert trained.method == "payee history"


def _history() -> tuple[list[Example], list[str]]:
    examples, labels = [], []
    for n in range(15):
        examples += [ex(f"REWE SAGT DANKE {4000 + n} BERLIN", -2_000 - n * 37),
                     ex(f"SHELL {n} HAMBURG", -6_000 - n * 11, note="Kartenzahlung girocard"),
                     ex(f"Trattoria Roma {n}", -3_500 - n),
                     ex("ACME GmbH", 300_000, note=f"LOHN/GEHALT {n:02d}/2024")]
        labels += ["groceries", "fuel", "eating out", "salary"]
    return examples, labels


def test_the_model_learns_noisy_payees_and_generalises_from_words() -> None:
    examples, labels = _history()
    trained = train(examples, labels)
    assert trained.method == "model"
    assert sorted(trained.classes) == ["eating out", "fuel", "groceries", "salary"]
    found = trained.suggest([ex("REWE Markt 9999 MUENCHEN", -2_345), ex("Shell Deutschland", -5_000),
                             ex("PAYPAL *TRATTORIABELLA", -4_000), ex("ACME GMBH", 301_000)], USABLE, top=3)
    assert [f[0].category for f in found] == ["groceries", "fuel", "eating out", "salary"]
    assert all(f[0].source == "model" and 0 < f[0].confidence <= 1 for f in found)
    assert found[0][0].confidence > 0.5  # another city, other words
    [[known]] = trained.suggest([ex("REWE SAGT DANKE 4711 BERLIN", -2_100)], USABLE)
    assert (known.category, known.confidence > 0.8) == ("groceries", True)
    assert [len(f) for f in found] == [3, 3, 3, 1]  # an income only ever gets income categories
    assert found[0][0].confidence >= found[0][1].confidence >= found[0][2].confidence


def test_only_usable_categories_are_suggested() -> None:
    examples, labels = _history()
    trained = train(examples, labels)
    [[suggestion]] = trained.suggest([ex("REWE SAGT DANKE 1 BERLIN")], {"fuel": False, "salary": True})
    assert suggestion.category == "fuel"  # groceries is archived now: never suggested
    assert trained.suggest([ex("REWE")], {}) == [[]]


def test_a_trained_categoriser_is_kept_as_numbers_and_reads_back_the_same() -> None:
    examples, labels = _history()
    for trained in (train(examples, labels), train(examples[:8], labels[:8])):
        data = trained.to_bytes()
        assert b"pickle" not in data
        back = Categoriser.from_bytes(data)
        assert (back.method, back.classes) == (trained.method, trained.classes)
        assert back.examples == trained.examples
        probe = [ex("REWE 1 BERLIN"), ex("SHELL 3 HAMBURG"), ex("Nobody")]
        assert back.suggest(probe, USABLE) == trained.suggest(probe, USABLE)
    with pytest.raises(ValueError, match=r"pickle|format|not"):
        Categoriser.from_bytes(b"not a categoriser")


def test_the_sgd_model_is_the_other_one_compared() -> None:
    examples, labels = _history()
    trained = train(examples, labels, model="sgd")
    [[found]] = trained.suggest([ex("SHELL 77 HAMBURG", -6_100)], USABLE)
    assert found.category == "fuel"


def test_odd_input_gets_a_sane_answer() -> None:
    examples, labels = _history()
    trained = train(examples, labels)
    odd = [ex(""), ex("x" * 10_000, note="y" * 10_000), ex("\x00\x00REWE\x00"), ex("💸🧾", 0),
           ex("REWE", -(10**15))]
    found = trained.suggest(odd, USABLE)
    assert len(found) == len(odd)
    assert all(0 <= s.confidence <= 1 for row in found for s in row)
    assert trained.suggest([], USABLE) == []


def test_an_imports_plan_lets_choices_win_then_rules_then_confident_suggestions() -> None:
    from uuid import UUID, uuid4

    from tally_ledger.categorising import Plan, Usable
    from tally_ledger.domain import Category, StatementEntry
    from tally_ledger.importers.rows import StatementRow
    from tallykit.contracts.ledger import CategorisedBy, CategoryKind, TransactionKind

    ids = {name: str(uuid4()) for name in ("groceries", "fuel", "eating out", "salary")}
    examples, labels = _history()
    trained = train(examples, [ids[label] for label in labels])
    categories = {i: Category.create(UUID(i), name=n, group="G",
                                     kind=CategoryKind.income if n == "salary" else CategoryKind.expense)
                  for n, i in ids.items()}
    usable = Usable({i: n == "salary" for n, i in ids.items()}, {}, {i: n for n, i in ids.items()})
    rows = [StatementRow(f"line {n}", DAY, amount, payee) for n, (payee, amount) in enumerate(
        [("REWE SAGT DANKE 4711 BERLIN", -2_000), ("SHELL 3 HAMBURG", -6_000), ("Nobody", -100),
         ("REWE SAGT DANKE 4712 BERLIN", -2_100), ("SHELL 4 HAMBURG", -6_100)])]
    entries = [StatementEntry(TransactionKind.expense, -r.amount_minor, DAY, r.payee) for r in rows]
    entries[1] = StatementEntry(TransactionKind.expense, 6_000, DAY, "SHELL 3 HAMBURG",
                                category=categories[ids["eating out"]])  # as a rule set it
    plan = Plan(trained, usable, 0.9, True, {"line 3": ids["fuel"], "line 4": None}, categories)
    so_far = [None, CategorisedBy.rule, None, None, None]
    out, by = plan.categorise(uuid4(), rows, entries, so_far)
    names = [usable.names[str(e.category.id)] if e.category else None for e in out]
    assert names == ["groceries", "eating out", None, "fuel", None]
    assert by == [CategorisedBy.suggestion, CategorisedBy.rule, None, CategorisedBy.person, None]
    off = Plan(trained, usable, 0.9, False, {}, categories)
    assert [e.category for e in off.categorise(uuid4(), rows[:1], entries[:1], [None])[0]] == [None]
    strict = Plan(trained, usable, 1.0, True, {}, categories)  # nothing is that sure
    assert strict.categorise(uuid4(), rows[:1], entries[:1], [None])[1] == [None]
