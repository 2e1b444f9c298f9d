"""Rate-level weight dynamics: saturating LTP, decaying LTD and their balance."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from models.integrate import rk4

Drive = Callable[[float], float]
Array = NDArray[np.float64]


def constant(value: float = 1.0) -> Drive:
    """An induction signal that stays at `value` for all t."""
    return lambda t: value


def integrate_ltp(
    t: Array, w0: float, eta: float, w_max: float = 1.0, ltp: Drive | None = None
) -> Array:
    """RK4 solution of dW/dt = eta * LTP(t) * (Wmax - W)."""
    drive = ltp or constant()
    return rk4(lambda s, w: eta * drive(s) * (w_max - w), w0, t)


def ltp_closed_form(t: Array, w0: float, eta: float, w_max: float = 1.0) -> Array:
    """Exact W(t) = Wmax - (Wmax - W0) exp(-eta t) for constant unit induction."""
    return w_max - (w_max - w0) * np.exp(-eta * np.asarray(t))


def integrate_ltd(t: Array, w0: float, eta: float, ltd: Drive | None = None) -> Array:
    """RK4 solution of dW/dt = -eta * LTD(t) * W."""
    drive = ltd or constant()
    return rk4(lambda s, w: -eta * drive(s) * w, w0, t)


def ltd_closed_form(t: Array, w0: float, eta: float) -> Array:
    """Exact W(t) = W0 exp(-eta t) for constant unit induction."""
    return w0 * np.exp(-eta * np.asarray(t))


def integrate_balance(
    t: Array,
    w0: float,
    eta_ltp: float,
    eta_ltd: float,
    w_max: float = 1.0,
    ltp: Drive | None = None,
    ltd: Drive | None = None,
) -> Array:
    """RK4 solution of dW/dt = eta1 LTP (Wmax - W) - eta2 LTD W."""
    up, down = ltp or constant(), ltd or constant()
    return rk4(lambda s, w: eta_ltp * up(s) * (w_max - w) - eta_ltd * down(s) * w, w0, t)


def balance_fixed_point(eta_ltp: float, eta_ltd: float, w_max: float = 1.0) -> float:
    """W* = eta1 Wmax / (eta1 + eta2) for LTP = LTD = 1."""
    return eta_ltp * w_max / (eta_ltp + eta_ltd)


def balance_closed_form(
    t: Array, w0: float, eta_ltp: float, eta_ltd: float, w_max: float = 1.0
) -> Array:
    """Exact solution for constant unit drives: relaxation to W* at rate eta1 + eta2."""
    w_star = balance_fixed_point(eta_ltp, eta_ltd, w_max)
    return w_star + (w0 - w_star) * np.exp(-(eta_ltp + eta_ltd) * np.asarray(t))
