"""Correlation-based rules: plain Hebbian learning, Oja's rule and the BCM modification function."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def gaussian_inputs(cov: Array, n: int, seed: int = 0) -> Array:
    """`n` zero-mean samples with covariance `cov`, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(len(cov)), cov, size=n)


def hebbian_weights(x: Array, w0: Array, eta: float) -> Array:
    """Weight history under dw = eta y x with y = w.x; returns shape (n + 1, dim)."""
    w = np.array(w0, dtype=float)
    out = [w.copy()]
    for xi in x:
        w = w + eta * (w @ xi) * xi
        out.append(w.copy())
    return np.array(out)


def oja_weights(x: Array, w0: Array, eta: float) -> Array:
    """Weight history under Oja's rule dw = eta y (x - y w); returns shape (n + 1, dim)."""
    w = np.array(w0, dtype=float)
    out = [w.copy()]
    for xi in x:
        y = w @ xi
        w = w + eta * y * (xi - y * w)
        out.append(w.copy())
    return np.array(out)


def principal_eigenvector(cov: Array) -> Array:
    """Unit eigenvector of the largest eigenvalue of a symmetric matrix."""
    values, vectors = np.linalg.eigh(cov)
    return np.asarray(vectors[:, np.argmax(values)])


def bcm_phi(y: Array, theta: float) -> Array:
    """BCM modification function phi(y) = y (y - theta): LTD below theta, LTP above."""
    y = np.asarray(y, dtype=float)
    return y * (y - theta)
