"""STDP window values by hand, its integral, and bimodal competition (short run)."""

from __future__ import annotations

import numpy as np
import pytest
from models.stdp import simulate_competition, stdp_window, window_integral

SONG = {"a_plus": 0.005, "a_minus": 0.00525, "tau_plus": 20.0, "tau_minus": 20.0}


def test_window_values_by_hand() -> None:
    # +20 ms: 0.005 e^{-1} = 0.0018394; -20 ms: -0.00525 e^{-1} = -0.0019314
    assert stdp_window(20.0, **SONG) == pytest.approx(0.0018394, abs=1e-7)
    assert stdp_window(-20.0, **SONG) == pytest.approx(-0.0019314, abs=1e-7)
    assert stdp_window(0.0, **SONG) == 0.0
    assert stdp_window(1e-9, **SONG) == pytest.approx(0.005)
    bi_poo = stdp_window(
        np.array([16.8, -33.7]), a_plus=0.005, a_minus=0.00525, tau_plus=16.8, tau_minus=33.7
    )
    assert bi_poo == pytest.approx([0.005 / np.e, -0.00525 / np.e])


def test_song_window_integral_is_negative() -> None:
    integral = window_integral(**SONG)
    assert integral == pytest.approx(0.005 * 20 - 0.00525 * 20)
    assert integral < 0
    dt = np.linspace(-400, 400, 160001)
    numeric = np.trapezoid(stdp_window(dt, **SONG), dt)
    assert numeric == pytest.approx(integral, rel=1e-3)


def _histogram(weights: np.ndarray) -> np.ndarray:
    assert weights.min() >= 0.0 and weights.max() <= 1.0
    return np.histogram(weights, bins=10, range=(0.0, 1.0))[0]


def test_competition_short_run_is_u_shaped() -> None:
    # 4x larger steps (A+ = 0.02) reach the split in 200 s instead of 1000 s
    res = simulate_competition(duration_s=200.0, a_plus=0.02, uniform_start=True, seed=3)
    counts = _histogram(res.weights)
    assert counts[0] > counts[1:-1].max()
    assert counts[-1] > counts[1:-1].max()
    assert counts[0] + counts[-1] > 2 * counts[4:6].sum()
    assert res.rate_hz[-5:].mean() < 20.0  # depression-dominated STDP keeps the output rate low


def test_uniform_start_is_flat_before_learning() -> None:
    # with no plasticity the initial spread stays uniform: the U shape above is learned
    res = simulate_competition(duration_s=2.0, a_plus=0.0, uniform_start=True, seed=3)
    counts = _histogram(res.weights)
    assert counts.max() < 2 * counts.min()


@pytest.mark.slow
def test_competition_paper_parameters_bimodal() -> None:
    res = simulate_competition(duration_s=1000.0, uniform_start=True, seed=1)
    w = res.weights
    assert np.mean((w < 0.2) | (w > 0.8)) > 0.6
    assert np.mean(w < 0.1) > 0.2 and np.mean(w > 0.9) > 0.2
    assert np.mean((w > 0.3) & (w < 0.7)) < 0.25
