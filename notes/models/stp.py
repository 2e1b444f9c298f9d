"""Tsodyks-Markram short-term plasticity: spike-train recursion and its steady state.

Update order at spike n (times in ms, amplitudes in units of the absolute efficacy A):
the PSC is u_n * x_n, read BEFORE spike n changes anything; then u jumps by U (1 - u_n)
and x loses u_n x_n; between spikes u relaxes to U with tau_facil and x recovers to 1
with tau_rec. Resting values: u_1 = U, x_1 = 1, so the first amplitude is U.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def _decay(interval: float, tau: float) -> float:
    """exp(-interval / tau), with tau = 0 meaning instantaneous relaxation."""
    return 0.0 if tau <= 0 else float(np.exp(-interval / tau))


def train_amplitudes(
    n_spikes: int, rate_hz: float, u_rest: float, tau_rec: float, tau_facil: float = 0.0
) -> Array:
    """PSC amplitudes u_n x_n for a regular train at `rate_hz` (tau in ms)."""
    interval = 1000.0 / rate_hz
    f, d = _decay(interval, tau_facil), _decay(interval, tau_rec)
    u, x = u_rest, 1.0
    out = np.empty(n_spikes)
    for n in range(n_spikes):
        out[n] = u * x
        u_after, x_after = u + u_rest * (1 - u), x - u * x
        u = u_rest + (u_after - u_rest) * f
        x = 1 - (1 - x_after) * d
    return out


def steady_state(
    rate_hz: Array | float, u_rest: float, tau_rec: float, tau_facil: float = 0.0
) -> Array:
    """Closed-form fixed point of the recursion: u* x* at each rate (tau in ms).

    u* = U / (1 - (1 - U) F) and x* = (1 - D) / (1 - (1 - u*) D), F = exp(-T/tau_facil),
    D = exp(-T/tau_rec), T = 1/rate.
    """
    interval = 1000.0 / np.asarray(rate_hz, dtype=float)
    f = np.exp(-interval / tau_facil) if tau_facil > 0 else np.zeros_like(interval)
    d = np.exp(-interval / tau_rec)
    u_star = u_rest / (1 - (1 - u_rest) * f)
    x_star = (1 - d) / (1 - (1 - u_star) * d)
    return np.asarray(u_star * x_star)


def high_rate_limit(rate_hz: Array | float, tau_rec: float) -> Array:
    """Asymptote 1 / (f tau_rec) of the steady state at high rates (tau in ms)."""
    return np.asarray(1000.0 / (np.asarray(rate_hz, dtype=float) * tau_rec))
