"""A household's learned categoriser: trained on its own categorised transactions, it suggests a category
with a confidence for a new one. Plain Python on numpy/scipy; scikit-learn only to train.

Two methods, chosen by how much there is to learn from:

- **model** (at least `MIN_EXAMPLES` examples of at least two categories): a linear classifier over the
  hashed features of `features.py`. Multinomial logistic regression by default (`train(…, model=
  "logistic")`); SGD with the logistic loss (one-vs-rest) is the other one the benchmark compares. The
  confidence is the model's probability of the category it suggests.
- **payee history** (fewer examples, or one category only): the most recent category of the same payee,
  looked up by the whole cleaned payee, else its first two significant words, else its first one. The
  confidence is that category's share of the payee's history counting one unknown more
  (`n_same / (n + 1)`): one earlier booking gives 50 %, four alike 80 %, nine alike 90 % — one example is
  no certainty.

Only usable categories of the row's kind are suggested (an expense is never suggested an income
category nor an archived one): the caller says which (`usable`: category → is it an income category).

A trained categoriser is kept as numbers only (`to_bytes`: numpy's `.npz` of arrays and a JSON header,
read back with `allow_pickle=False`), so loading one never runs code from the database. The weights are
kept for the feature columns the training saw (every other weight is zero), as float32.
"""

import io
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from tally_ledger.categoriser.features import N_FEATURES, Example, featurize
from tally_ledger.categoriser.text import payee_keys

MIN_EXAMPLES = 30
FORMAT = 1
Method = Literal["model", "payee history"]
ModelKind = Literal["logistic", "sgd"]


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: float  # 0..1
    source: Method


@dataclass
class PayeeHistory:
    """Per payee key (three levels, see `payee_keys`): its most recent category and how often each came."""

    levels: list[dict[str, tuple[str, dict[str, int]]]] = field(default_factory=lambda: [{}, {}, {}])

    @classmethod
    def of(cls, examples: Sequence[Example], labels: Sequence[str]) -> "PayeeHistory":
        """From examples in booking order (oldest first): the last one of a payee is its most recent."""
        counts: list[dict[str, Counter[str]]] = [{}, {}, {}]
        latest: list[dict[str, str]] = [{}, {}, {}]
        for example, label in zip(examples, labels, strict=True):
            for level, key in enumerate(payee_keys(example.payee)):
                if key:
                    counts[level].setdefault(key, Counter())[label] += 1
                    latest[level][key] = label
        return cls([{key: (latest[n][key], dict(found)) for key, found in counts[n].items()}
                    for n in range(3)])

    def suggest(self, example: Example, usable: Mapping[str, bool]) -> Suggestion | None:
        for level, key in enumerate(payee_keys(example.payee)):
            found = self.levels[level].get(key) if key else None
            if found is None:
                continue
            last, counts = found
            if usable.get(last) is not example.income:
                # The most recent is of the other kind or no longer usable: the most frequent usable one.
                fitting = [(n, c) for c, n in counts.items() if usable.get(c) is example.income]
                if not fitting:
                    return None
                last = max(fitting)[1]
            return Suggestion(last, counts[last] / (sum(counts.values()) + 1), "payee history")
        return None


@dataclass
class LinearModel:
    """Scores = features[:, columns] @ weights + intercept; probabilities by softmax (multinomial) or
    normalised sigmoids (one-vs-rest), as scikit-learn's `predict_proba` computes them."""

    columns: np.ndarray  # int64, sorted: the feature columns with a weight
    weights: np.ndarray  # float32, len(columns) by classes
    intercept: np.ndarray  # float32, classes
    link: Literal["softmax", "ovr"]
    temperature: float = 1.0  # scores are divided by it (> 1: less sure), see `calibrate`

    def probabilities(self, features: sp.csr_matrix) -> np.ndarray:
        compact = _compact_rows(features, self.columns)
        return self.link_scores((np.asarray(compact @ self.weights) + self.intercept) / self.temperature)

    def link_scores(self, scores: np.ndarray) -> np.ndarray:
        if self.link == "softmax":
            scores -= scores.max(axis=1, keepdims=True)
            exp = np.exp(scores)
            result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
            return result
        sigmoid = 1.0 / (1.0 + np.exp(-np.clip(scores, -30, 30)))
        total = sigmoid.sum(axis=1, keepdims=True)
        result = np.divide(sigmoid, total, out=np.full_like(sigmoid, 1 / sigmoid.shape[1]), where=total > 0)
        return result


@dataclass
class Categoriser:
    """What training leaves: the method, the categories it knows, and the model or the payee history."""

    method: Method
    classes: list[str]
    examples: int
    linear: LinearModel | None = None
    history: PayeeHistory = field(default_factory=PayeeHistory)
    seconds: float = 0.0  # how long training took

    def suggest(self, examples: Sequence[Example], usable: Mapping[str, bool], *,
                top: int = 1) -> list[list[Suggestion]]:
        """Per example, up to `top` suggestions of usable categories of its kind, the likeliest first."""
        if self.linear is None:
            return [[s] if (s := self.history.suggest(e, usable)) else [] for e in examples]
        if not examples:
            return []
        probabilities = self.linear.probabilities(featurize(examples))
        is_income = np.array([usable.get(c) is True for c in self.classes])
        is_expense = np.array([usable.get(c) is False for c in self.classes])
        incomes = np.array([e.income for e in examples])
        allowed = np.where(incomes[:, None], is_income[None, :], is_expense[None, :])
        masked = np.where(allowed, probabilities, -1.0)
        best = np.argsort(-masked, axis=1, kind="stable")[:, :top]
        chosen = np.take_along_axis(masked, best, axis=1).tolist()
        return [[Suggestion(self.classes[i], p, "model") for i, p in zip(row, ps, strict=True) if p >= 0]
                for row, ps in zip(best.tolist(), chosen, strict=True)]

    # --- kept as numbers ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        header = {"format": FORMAT, "method": self.method, "classes": self.classes, "examples": self.examples,
                  "seconds": self.seconds, "link": self.linear.link if self.linear else None,
                  "temperature": self.linear.temperature if self.linear else 1.0,
                  "history": self.history.levels if self.linear is None else None}
        arrays: dict[str, np.ndarray] = {
            "header": np.frombuffer(json.dumps(header, separators=(",", ":")).encode(), dtype=np.uint8)}
        if self.linear is not None:
            arrays |= {"columns": self.linear.columns, "weights": self.linear.weights,
                       "intercept": self.linear.intercept}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Categoriser":
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            header = json.loads(stored["header"].tobytes())
            if header.get("format") != FORMAT:
                raise ValueError(f"a categoriser of format {header.get('format')}, not {FORMAT}")
            linear = None
            if header["link"] is not None:
                linear = LinearModel(stored["columns"].astype(np.int64), stored["weights"].astype(np.float32),
                                     stored["intercept"].astype(np.float32), header["link"],
                                     float(header["temperature"]))
        history = PayeeHistory([{k: (last, counts) for k, (last, counts) in level.items()}
                                for level in header["history"]]) if header["history"] else PayeeHistory()
        return cls(header["method"], list(header["classes"]), int(header["examples"]), linear, history,
                   float(header["seconds"]))


def train(examples: Sequence[Example], labels: Sequence[str], *, model: ModelKind = "logistic",
          min_examples: int = MIN_EXAMPLES) -> Categoriser:
    """Learn from examples (oldest first) and their categories. CPU-bound (seconds for 100,000 examples):
    never on a request's path."""
    started = time.perf_counter()
    classes = sorted(set(labels))
    if len(examples) < min_examples or len(classes) < 2:
        history = PayeeHistory.of(examples, labels)
        return Categoriser("payee history", classes, len(examples), None, history,
                           time.perf_counter() - started)
    features = featurize(examples)
    # SGD's one-vs-rest probabilities come out far too sure of themselves; logistic regression's did not
    # (a temperature fitted for it stayed within 0.65-1.0 and changed no precision): only SGD is calibrated.
    temperature = (calibrate(features, labels, classes, model)
                   if model == "sgd" and len(examples) >= CALIBRATE_FROM else 1.0)
    # Train on the columns the examples use (every other weight would stay zero): less memory and time.
    columns, compact_indices = np.unique(features.indices, return_inverse=True)
    compact = sp.csr_matrix((features.data, compact_indices.ravel(), features.indptr),
                            shape=(features.shape[0], len(columns)))
    index = {c: n for n, c in enumerate(classes)}
    target = np.array([index[label] for label in labels])
    linear = _fit(compact, target, len(classes), model)
    linear.columns, linear.temperature = columns.astype(np.int64), temperature
    assert linear.columns.max(initial=0) < N_FEATURES
    return Categoriser("model", classes, len(examples), linear, PayeeHistory(), time.perf_counter() - started)


LOGISTIC_C = 20.0
SGD_ALPHA = 2e-6
CALIBRATE_FROM = 300
TEMPERATURES = np.exp(np.linspace(np.log(0.5), np.log(6.0), 40))


def calibrate(features: sp.csr_matrix, labels: Sequence[str], classes: list[str], model: ModelKind) -> float:
    """The temperature that makes the model's probabilities honest on bookings it has not seen: trained
    on the older 80 % of the examples, the one of `TEMPERATURES` with the least log loss on the newest
    20 % (new merchants and changed habits included, as the next statement will have them)."""
    split = int(len(labels) * 0.8)
    seen = sorted(set(labels[:split]))
    if len(seen) < 2:
        return 1.0
    head = features[:split]
    columns, compact_indices = np.unique(head.indices, return_inverse=True)
    compact = sp.csr_matrix((head.data, compact_indices.ravel(), head.indptr), shape=(split, len(columns)))
    index = {c: n for n, c in enumerate(seen)}
    linear = _fit(compact, np.array([index[label] for label in labels[:split]]), len(seen), model)
    linear.columns = columns.astype(np.int64)
    tail = [index.get(label, -1) for label in labels[split:]]
    known = np.array([t >= 0 for t in tail])
    if not known.any():
        return 1.0
    scores = np.asarray(_compact_rows(features[split:], linear.columns) @ linear.weights) + linear.intercept
    truth = np.array(tail)[known]
    scores = scores[known]
    losses = [-np.log(np.maximum(linear.link_scores(scores / t)[np.arange(len(truth)), truth], 1e-12)).mean()
              for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


def _compact_rows(features: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    position = np.minimum(np.searchsorted(columns, features.indices), len(columns) - 1)
    known = columns[position] == features.indices
    data = np.where(known, features.data, 0).astype(np.float32)
    return sp.csr_matrix((data, np.where(known, position, 0), features.indptr),
                         shape=(features.shape[0], len(columns)))


def _fit(features: sp.csr_matrix, target: np.ndarray, classes: int, model: ModelKind) -> LinearModel:
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    estimator: Any
    if model == "logistic":
        estimator = LogisticRegression(C=LOGISTIC_C, max_iter=200, tol=1e-3)
        link: Literal["softmax", "ovr"] = "softmax"
    else:
        estimator = SGDClassifier(loss="log_loss", alpha=SGD_ALPHA, max_iter=20, tol=None, random_state=0)
        link = "ovr"
    estimator.fit(features, target)
    coef = np.asarray(estimator.coef_, dtype=np.float32)
    intercept = np.asarray(estimator.intercept_, dtype=np.float32)
    if classes == 2:  # scikit-learn keeps one row for two classes: the second's score against the first
        coef = np.vstack([-coef[0] / 2, coef[0] / 2]) if link == "softmax" else np.vstack([-coef[0], coef[0]])
        intercept = (np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32) if link == "softmax"
                     else np.array([-intercept[0], intercept[0]], dtype=np.float32))
    return LinearModel(np.empty(0, dtype=np.int64), np.ascontiguousarray(coef.T), intercept, link)


def train_to_bytes(examples: Sequence[Example], labels: Sequence[str],
                   model: ModelKind = "logistic") -> bytes:
    """`train(…).to_bytes()`: what the service's training process runs (its answer crosses back as bytes)."""
    return train(examples, labels, model=model).to_bytes()
