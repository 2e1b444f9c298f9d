"""Invariants of the models over their parameter ranges (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from models.calcium import omega
from models.plasticity import balance_closed_form, balance_fixed_point
from models.stdp import stdp_window
from models.stp import steady_state, train_amplitudes

unit = st.floats(0.01, 0.99)
tau = st.floats(1.0, 2000.0)
rate = st.floats(0.5, 200.0)


@settings(max_examples=60, deadline=None)
@given(u_rest=unit, tau_rec=tau, tau_facil=st.one_of(st.just(0.0), tau), f=rate)
def test_stp_amplitudes_bounded_and_converge(
    u_rest: float, tau_rec: float, tau_facil: float, f: float
) -> None:
    amps = train_amplitudes(400, f, u_rest, tau_rec, tau_facil)
    assert np.all(amps > 0) and np.all(amps <= 1)
    assert amps[0] == u_rest
    closed = float(steady_state(f, u_rest, tau_rec, tau_facil))
    assert 0 < closed <= 1
    # the steady state never exceeds what full recovery between spikes would allow
    assert closed <= float(steady_state(f, u_rest, 1e-9, tau_facil)) + 1e-12


@settings(max_examples=60, deadline=None)
@given(ca=st.floats(0.0, 5.0))
def test_omega_within_its_range(ca: float) -> None:
    value = float(omega(ca))
    assert 0.0 <= value <= 1.0 + 1e-12


@settings(max_examples=60, deadline=None)
@given(
    dt=st.floats(-200.0, 200.0).filter(lambda x: x != 0),
    a_plus=st.floats(1e-4, 0.1),
    ratio=st.floats(0.5, 2.0),
)
def test_stdp_sign_follows_timing(dt: float, a_plus: float, ratio: float) -> None:
    change = float(stdp_window(dt, a_plus, ratio * a_plus, 20.0, 20.0))
    assert (change > 0) == (dt > 0) or change == 0.0  # may underflow to 0 far out
    assert abs(change) <= max(a_plus, ratio * a_plus)


@settings(max_examples=60, deadline=None)
@given(w0=st.floats(0.0, 1.0), eta1=st.floats(0.01, 5.0), eta2=st.floats(0.01, 5.0))
def test_balance_moves_monotonically_to_fixed_point(w0: float, eta1: float, eta2: float) -> None:
    w_star = balance_fixed_point(eta1, eta2)
    w = balance_closed_form(np.linspace(0.0, 5.0, 50), w0, eta1, eta2)
    gaps = np.abs(w - w_star)
    assert np.all(np.diff(gaps) <= 1e-12)
    assert 0.0 <= w_star <= 1.0
