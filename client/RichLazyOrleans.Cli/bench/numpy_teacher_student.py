"""numpy baselines for `richlazy bench teacher-student`: one full-batch gradient-descent step of
the teacher-student ReLU network in float64, timed per step. Run with one BLAS thread
(OPENBLAS_NUM_THREADS=1) for a per-core comparison.

  usage: numpy_teacher_student.py n d m m0 steps {authors,tight}

authors: the operations of the authors' released loop (fit_nn_gd in the paper's repository):
         the ReLU derivative is formed by boolean-mask assignment on the transposed (strided)
         pre-activations, the weight gradient as (outer(a, residual) * mask) @ X in (m, n) layout.
tight:   the same mathematics written for speed (no masked assignment, no transposed copy),
         i.e. the best a numpy user could do.
Prints one number: milliseconds per step."""
import sys, time
import numpy as np

n, d, m, m0, steps = (int(a) for a in sys.argv[1:6])
mode = sys.argv[6] if len(sys.argv) > 6 else "authors"
rng = np.random.default_rng(0)
def sphere(k):
    x = rng.standard_normal((k, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)
X = sphere(n)
y = np.maximum(X @ sphere(m0).T, 0) @ rng.choice([-1.0, 1.0], m0)
W = 0.5 * sphere(m)
a = 0.5 * rng.choice([-1.0, 1.0], m)
lr = 5e-3 / 0.25

def relu_derivative_by_assignment(z):
    z[z >= 0] = 1
    z[z < 0] = 0
    return z

def step_authors(W, a):
    lin = X @ W.T
    act = np.maximum(0, lin)
    residual = 2 * (y - act @ a)
    a_grad = -act.T @ residual
    W_grad = -(np.outer(a, residual) * relu_derivative_by_assignment(lin.T)) @ X   # on the transposed view, as released
    W -= lr / n * W_grad
    a -= lr / n * a_grad
    return W, a

def step_tight(W, a):
    Z = X @ W.T
    H = np.maximum(Z, 0)
    r = H @ a - y
    ga = (2.0 / n) * (H.T @ r)
    gW = (2.0 / n) * (((Z > 0) * np.outer(r, a)).T @ X)
    return W - lr * gW, a - lr * ga

step = step_authors if mode == "authors" else step_tight
for _ in range(20):
    W, a = step(W, a)
t = time.perf_counter()
for _ in range(steps):
    W, a = step(W, a)
print(f"{1000 * (time.perf_counter() - t) / steps:.4f}")
