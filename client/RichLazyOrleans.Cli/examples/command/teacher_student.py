#!/usr/bin/env python3
"""A researcher's own training script run by `richlazy` (kind: command), in plain numpy.

Two-layer ReLU student f(x) = a . relu(W x) / sqrt(m) learns a ReLU teacher by full-batch gradient descent.
The protocol (README, "Your own training code"):
  - the run spec arrives as JSON on stdin (and in $RICHLAZY_SPEC_FILE): here n, d, width, lr, steps, every, seed;
  - one JSON object per checkpoint on stdout: step and the declared metrics (train_loss, test_loss);
  - state is saved in $RICHLAZY_CHECKPOINT_DIR, so a run moved to another silo (or stopped with SIGTERM)
    resumes where it was. The rows printed so far are saved with it and printed again on resume: rows of
    the last second before a silo died may not have reached the orchestrator (repeats count once).
"""
import json
import os
import signal
import sys

import numpy as np

spec = json.load(sys.stdin)
n, d, m = int(spec.get("n", 200)), int(spec.get("d", 10)), int(spec.get("width", 20))
lr, steps, every = float(spec.get("lr", 0.1)), int(spec.get("steps", 1000)), int(spec.get("every", 100))
seed = int(spec.get("seed", 0))
ckpt_dir = os.environ.get("RICHLAZY_CHECKPOINT_DIR", "")

# Data and init depend only on the seed, so every attempt of a run sees the same ones.
rng = np.random.default_rng(seed)
x, x_test = rng.standard_normal((n, d)), rng.standard_normal((n, d))
teacher = rng.standard_normal((3, d))
y, y_test = np.maximum(x @ teacher.T, 0).sum(1), np.maximum(x_test @ teacher.T, 0).sum(1)
w, a = rng.standard_normal((m, d)) / np.sqrt(d), rng.standard_normal(m)

step, resumed, history = 0, 0, []
state = os.path.join(ckpt_dir, "state.npz") if ckpt_dir else ""
if ckpt_dir:
    os.makedirs(ckpt_dir, exist_ok=True)
if state and os.path.exists(state):
    saved = np.load(state)
    w, a, step = saved["w"], saved["a"], int(saved["step"])
    history = json.loads(str(saved["history"]))
    resumed = step
    for row in history:   # again: the orchestrator keeps each step once
        print(json.dumps(row), flush=True)

stop = False


def on_term(signum, frame):
    global stop
    stop = True   # finish the current step, save, leave


signal.signal(signal.SIGTERM, on_term)


def save():
    if state:
        tmp = state + ".tmp.npz"
        np.savez(tmp, w=w, a=a, step=step, history=json.dumps(history))
        os.replace(tmp, state)   # whole file or none


def loss(xs, ys):
    return float(np.mean((np.maximum(xs @ w.T, 0) @ a / np.sqrt(m) - ys) ** 2))


def report():
    row = {"step": step, "train_loss": loss(x, y), "test_loss": loss(x_test, y_test), "resumed_from_step": resumed}
    history.append(row)
    print(json.dumps(row), flush=True)


if step == 0:
    report()
while step < steps:
    h = x @ w.T
    r = np.maximum(h, 0) @ a / np.sqrt(m) - y                       # residuals
    grad_a = np.maximum(h, 0).T @ r * (2 / n / np.sqrt(m))
    grad_w = ((r[:, None] * (h > 0)) * a).T @ x * (2 / n / np.sqrt(m))
    w, a = w - lr * grad_w, a - lr * grad_a
    step += 1
    if step % every == 0 or step == steps:
        report()
        save()   # after the row, so a saved state always holds the rows up to its step
    if stop:
        save()
        sys.exit(143)
