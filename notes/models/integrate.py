"""A fixed-step fourth-order Runge-Kutta integrator for small ODE systems."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Derivative = Callable[[float, NDArray[np.float64]], NDArray[np.float64]]


def rk4(
    f: Derivative, y0: float | NDArray[np.float64], t: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Integrate dy/dt = f(t, y) on the grid `t`; returns an array of shape (len(t), *y0.shape)."""
    y = np.array(y0, dtype=float)
    out = np.empty((len(t), *y.shape))
    out[0] = y
    for i in range(len(t) - 1):
        h = t[i + 1] - t[i]
        k1 = f(t[i], y)
        k2 = f(t[i] + h / 2, y + h / 2 * k1)
        k3 = f(t[i] + h / 2, y + h / 2 * k2)
        k4 = f(t[i] + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[i + 1] = y
    return out
