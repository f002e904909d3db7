"""Generate the SYNTHETIC example trial data in this folder (not measurements of any model).

    .venv/bin/python workloads/tts/make_trials.py            # writes trials_synthetic.csv, lengths_example.txt

Each Qwen3 model gets a skill θ (growing with size), each question a difficulty δ. A trial's length
is lognormal around a per-(model, question) median (smaller models and harder questions think
longer, as reported for reasoning models), cut at 32,768 tokens; a cut trial has no answer.
P(correct) = sigmoid(1.5·(θ − δ) − 0.8·ln(L / median)): longer trials of a question are less
often right. Wrong answers come from four distractors per question with skewed frequencies (so
a majority vote can converge on a wrong answer); the verifier score is a noisy sigmoid of
correctness. Deterministic (seed 2025).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = {  # model id: (skill θ, median generated tokens on an average question)
    "qwen3-0.6b": (-1.6, 14000.0),
    "qwen3-1.7b": (-0.9, 12500.0),
    "qwen3-4b": (-0.2, 11000.0),
    "qwen3-8b": (0.3, 10000.0),
    "qwen3-14b": (0.7, 9000.0),
    "qwen3-32b": (1.1, 8000.0),
}
QUESTIONS, TRIALS, MAX_TOKENS, SIGMA = 20, 64, 32768, 0.5
DISTRACTOR_PROBS = np.array([0.45, 0.25, 0.18, 0.12])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate(seed: int = 2025) -> list[dict]:
    """All trial rows (model, question, trial, correct, generated_tokens, answer, score, input_len)."""
    rng = np.random.default_rng(seed)
    difficulty = np.sort(rng.normal(0.0, 1.2, QUESTIONS))
    prompt_tokens = rng.integers(80, 300, QUESTIONS)
    truth = rng.integers(10, 999, QUESTIONS)
    rows = []
    for model, (skill, base_median) in MODELS.items():
        for q in range(QUESTIONS):
            median = base_median * np.exp(0.35 * difficulty[q])
            tokens = np.minimum(np.round(median * np.exp(SIGMA * rng.standard_normal(TRIALS))), MAX_TOKENS)
            tokens = np.maximum(tokens, 1).astype(int)
            p = sigmoid(1.5 * (skill - difficulty[q]) - 0.8 * np.log(tokens / median))
            cut = tokens >= MAX_TOKENS
            correct = (rng.random(TRIALS) < p) & ~cut
            wrong = rng.choice(4, TRIALS, p=DISTRACTOR_PROBS)
            score = sigmoid(2.0 * correct - 1.0 + rng.normal(0.0, 1.0, TRIALS))
            for t in range(TRIALS):
                answer = "" if cut[t] else str(truth[q] if correct[t] else truth[q] + 1 + wrong[t])
                rows.append({"model": model, "question_id": f"q{q:02d}", "trial_id": t, "correct": int(correct[t]),
                             "generated_tokens": int(tokens[t]), "answer": answer, "score": round(float(score[t]), 4),
                             "input_len": int(prompt_tokens[q])})
    return rows


def main() -> None:
    rows = generate()
    with open(HERE / "trials_synthetic.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lengths = [r["generated_tokens"] for r in rows if r["model"] == "qwen3-8b"]
    (HERE / "lengths_example.txt").write_text("\n".join(map(str, lengths)) + "\n")
    print(f"wrote {len(rows)} trials and {len(lengths)} lengths (synthetic)")


if __name__ == "__main__":
    main()
