"""LTP, LTD and their balance: RK4 against the exact solutions."""

from __future__ import annotations

import numpy as np
import pytest
from models.plasticity import (
    balance_closed_form,
    balance_fixed_point,
    integrate_balance,
    integrate_ltd,
    integrate_ltp,
    ltd_closed_form,
    ltp_closed_form,
)

T = np.linspace(0.0, 10.0, 1001)  # 10 ms steps over 0-10 s
TOL = 1e-9  # RK4 global error scales as h^4 ~ 1e-8 * eta^4: far below this


def test_ltp_matches_closed_form() -> None:
    numeric = integrate_ltp(T, w0=0.2, eta=0.5)
    exact = ltp_closed_form(T, w0=0.2, eta=0.5)
    assert np.max(np.abs(numeric - exact)) < TOL
    # by hand: W(2 s) = 1 - 0.8 e^{-1} = 0.705696...
    assert exact[200] == pytest.approx(1 - 0.8 * np.exp(-1.0), abs=1e-12)
    assert numeric[-1] < 1.0


def test_ltd_matches_closed_form() -> None:
    numeric = integrate_ltd(T, w0=0.8, eta=0.5)
    assert np.max(np.abs(numeric - ltd_closed_form(T, 0.8, 0.5))) < TOL
    assert numeric[200] == pytest.approx(0.8 * np.exp(-1.0), abs=1e-9)


def test_time_varying_drive_is_used() -> None:
    off = integrate_ltp(T, w0=0.2, eta=0.5, ltp=lambda t: 0.0)
    assert np.allclose(off, 0.2)


def test_balance_fixed_point_and_convergence() -> None:
    assert balance_fixed_point(0.5, 0.3) == pytest.approx(0.625)
    t = np.linspace(0.0, 20.0, 2001)
    for w0 in (0.0, 0.3, 0.9, 1.0):
        numeric = integrate_balance(t, w0, 0.5, 0.3)
        assert np.max(np.abs(numeric - balance_closed_form(t, w0, 0.5, 0.3))) < TOL
        assert numeric[-1] == pytest.approx(0.625, abs=1e-6)
