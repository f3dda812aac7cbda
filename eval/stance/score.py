"""Score the stance judge (agent/reading/stance.py) on messages it was not fitted on.

    python eval/stance/score.py [--home .vibeshelf]

Prints the 5-fold cross-validated AUC of the shipped examples for a few L2 strengths (how ``StanceJudge.L2``
was chosen), then the shipped judge on eval/stance/held_out.jsonl (two other writers): AUC, and precision and
recall of "against" at the reader's threshold (``reader.STANCE_CONFIDENCE``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vibeshelf.agent.reading.reader import STANCE_CONFIDENCE
from vibeshelf.agent.reading.stance import StanceJudge, examples_text, features, fit_logistic, parse_examples
from vibeshelf.retrieval.encoder import QueryEncoder

HERE = Path(__file__).parent


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The chance that an "against" example scores above one that is not (Mann-Whitney)."""
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(len(scores))
    positive = labels.astype(bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos - 1) / 2) / (n_pos * n_neg))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".vibeshelf"))
    args = parser.parse_args()
    encoder = QueryEncoder.load(args.home / "encoder", cache_size=0)

    shipped = parse_examples(examples_text())
    x = features(encoder.encode_uncached, [(e.text, *e.span) for e in shipped])
    y = np.array([e.against for e in shipped], dtype=np.float64)
    folds = np.random.default_rng(0).integers(0, 5, len(shipped))
    for l2 in (0.1, 0.3, 1.0, 3.0):
        scores = np.zeros(len(shipped))
        for k in range(5):
            train = folds != k
            weights, bias = fit_logistic(x[train], y[train], l2)
            scores[~train] = x[~train] @ weights + bias
        chosen = " (shipped)" if l2 == StanceJudge.L2 else ""
        print(f"examples, 5-fold: L2 {l2:<4} AUC {auc(scores, y):.3f}{chosen}")

    judge = StanceJudge.fit(encoder.encode_uncached, shipped)
    held = parse_examples((HERE / "held_out.jsonl").read_text(encoding="utf-8"), "held_out.jsonl")
    labels = np.array([e.against for e in held])
    print(f"held out: {len(held)} messages by two other writers, {labels.sum()} against")
    for name, judged in (("regression alone", judge.regression), ("with the predicate limit", judge.against)):
        probs = np.array([judged(e.text, [e.span])[0] for e in held])
        said = probs >= STANCE_CONFIDENCE
        print(
            f"  {name}: AUC {auc(probs, labels):.3f}; at P >= {STANCE_CONFIDENCE}: precision "
            f"{labels[said].mean():.2f}, recall {said[labels].mean():.2f}, "
            f"false alarms {said[~labels].mean():.3f} of the rest"
        )


if __name__ == "__main__":
    main()
