"""The calcium-control Omega function of Shouval, Bear & Cooper (2002)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
BASELINE = 0.25


def sig(x: Array | float, beta: float) -> Array:
    """Logistic exp(beta x) / (1 + exp(beta x)), written stably as 1 / (1 + exp(-beta x))."""
    # clipping keeps exp finite; beyond |700| the result is already 0 or 1 in double precision
    z = np.clip(beta * np.asarray(x, dtype=float), -700.0, 700.0)
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def omega(
    ca: Array | float,
    alpha1: float = 0.35,
    alpha2: float = 0.55,
    beta1: float = 80.0,
    beta2: float = 80.0,
) -> Array:
    """Omega(Ca) = 0.25 + sig(Ca - alpha2, beta2) - 0.25 sig(Ca - alpha1, beta1); Ca in µM."""
    ca = np.asarray(ca, dtype=float)
    return BASELINE + sig(ca - alpha2, beta2) - BASELINE * sig(ca - alpha1, beta1)


def _bisect(f: Callable[[float], float], lo: float, hi: float, steps: int = 80) -> float:
    """Root of f on [lo, hi], given a sign change there."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        if (f(lo) > 0) == (f(mid) > 0):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def plasticity_regions(
    tol: float = 0.01, alpha1: float = 0.35, alpha2: float = 0.55, beta: float = 80.0
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Ca ranges (µM) where Omega < 0.25 - tol (LTD) and Omega > 0.25 + tol (LTP).

    Omega is a hair below 0.25 for every Ca below the LTP crossing, so a tolerance
    turns the exact sign into regions of visible change.
    """

    def om(c: float) -> float:
        return float(omega(c, alpha1, alpha2, beta, beta))

    dip = alpha1 + (alpha2 - alpha1) / 2
    ltd_on = _bisect(lambda c: om(c) - (BASELINE - tol), 0.0, dip)
    ltd_off = _bisect(lambda c: om(c) - (BASELINE - tol), dip, alpha2 + 1.0)
    ltp_on = _bisect(lambda c: om(c) - (BASELINE + tol), dip, alpha2 + 1.0)
    return (ltd_on, ltd_off), (ltp_on, np.inf)
