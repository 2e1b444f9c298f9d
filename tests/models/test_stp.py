"""Tsodyks-Markram recursion: first amplitudes by hand, steady state and its high-rate limit."""

from __future__ import annotations

import numpy as np
import pytest
from models.stp import high_rate_limit, steady_state, train_amplitudes


def test_depressing_first_two_by_hand() -> None:
    # U = 0.5, tau_rec = 800 ms, 20 Hz (50 ms): A1 = U = 0.5;
    # x2 = 1 - (1 - (1 - 0.5)) e^{-50/800} = 1 - 0.5 * 0.939413 = 0.530294; A2 = 0.5 x2
    amps = train_amplitudes(10, 20.0, 0.5, 800.0)
    assert amps[0] == pytest.approx(0.5)
    assert amps[1] == pytest.approx(0.5 * (1 - 0.5 * np.exp(-50 / 800)), abs=1e-12)
    assert amps[1] == pytest.approx(0.265147, abs=1e-6)
    assert np.all(np.diff(amps) < 0)


def test_facilitating_first_two_by_hand() -> None:
    # U = 0.03, tau_rec = 130 ms, tau_facil = 530 ms, 20 Hz:
    # u2 = 0.03 + (0.03 + 0.03 * 0.97 - 0.03) e^{-50/530} = 0.056480
    # x2 = 1 - 0.03 e^{-50/130} = 0.979579;  A2 = u2 x2 = 0.055326
    amps = train_amplitudes(10, 20.0, 0.03, 130.0, 530.0)
    assert amps[0] == pytest.approx(0.03)
    assert amps[1] == pytest.approx(0.055326, abs=1e-6)
    assert amps[4] > amps[1]


@pytest.mark.parametrize(
    ("u_rest", "tau_rec", "tau_facil"), [(0.5, 800.0, 0.0), (0.03, 130.0, 530.0)]
)
def test_steady_state_matches_iteration(u_rest: float, tau_rec: float, tau_facil: float) -> None:
    for rate in (1.0, 5.0, 20.0, 70.0):
        iterated = train_amplitudes(3000, rate, u_rest, tau_rec, tau_facil)[-1]
        closed = float(steady_state(rate, u_rest, tau_rec, tau_facil))
        assert iterated == pytest.approx(closed, rel=1e-9)


def test_high_rate_limit() -> None:
    # at 1 kHz both synapses sit within 10 % of 1 / (f tau_rec)
    for u_rest, tau_rec, tau_facil in ((0.5, 800.0, 0.0), (0.03, 130.0, 530.0)):
        ratio = steady_state(1000.0, u_rest, tau_rec, tau_facil) / high_rate_limit(1000.0, tau_rec)
        assert ratio == pytest.approx(1.0, rel=0.1)
    # depressing synapse at 100 Hz: 0.5 (1 - D) / (1 - 0.5 D), D = e^{-10/800}
    d = np.exp(-10 / 800)
    assert steady_state(100.0, 0.5, 800.0) == pytest.approx(0.5 * (1 - d) / (1 - 0.5 * d))
