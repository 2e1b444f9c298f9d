"""Pair-based STDP: the learning window and Song, Miller & Abbott (2000) synaptic competition."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def stdp_window(
    delta_t: Array | float, a_plus: float, a_minus: float, tau_plus: float, tau_minus: float
) -> Array:
    """Weight change for one pair, delta_t = t_post - t_pre (ms); zero at delta_t = 0."""
    dt = np.asarray(delta_t, dtype=float)
    pot = a_plus * np.exp(-np.abs(dt) / tau_plus)
    dep = -a_minus * np.exp(-np.abs(dt) / tau_minus)
    return np.asarray(np.where(dt > 0, pot, np.where(dt < 0, dep, 0.0)))


def window_integral(a_plus: float, a_minus: float, tau_plus: float, tau_minus: float) -> float:
    """Integral of the window over delta_t (ms): A+ tau+ - A- tau-."""
    return a_plus * tau_plus - a_minus * tau_minus


@dataclass(frozen=True)
class CompetitionResult:
    """Final weights (units of gmax), output rate over time and the simulated duration."""

    weights: Array
    rate_times_s: Array
    rate_hz: Array
    duration_s: float


def simulate_competition(
    duration_s: float = 300.0,
    n_exc: int = 1000,
    n_inh: int = 200,
    rate_exc_hz: float = 10.0,
    rate_inh_hz: float = 10.0,
    g_max: float = 0.015,
    g_inh: float = 0.05,
    a_plus: float = 0.005,
    a_ratio: float = 1.05,
    tau_plus: float = 20.0,
    tau_minus: float = 20.0,
    tau_m: float = 20.0,
    v_rest: float = -70.0,
    v_th: float = -54.0,
    v_reset: float = -60.0,
    e_exc: float = 0.0,
    e_inh: float = -70.0,
    tau_exc: float = 5.0,
    tau_inh: float = 5.0,
    dt: float = 0.5,
    uniform_start: bool = False,
    seed: int = 1,
) -> CompetitionResult:
    """Integrate-and-fire neuron with additive all-to-all STDP on Poisson inputs (times in ms).

    Conductances are in units of the leak conductance and decay exactly per step; V uses
    the exact exponential update for the conductances held over the step. Presynaptic
    traces are kept lazily (value plus time of last update) so a step touches only the
    synapses that spiked; a synapse spiking twice in one step bumps its trace once. Pre
    spikes sit at the start of their step and post spikes at its end.
    """
    rng = np.random.default_rng(seed)
    a_minus = a_ratio * a_plus
    n_steps = round(duration_s * 1000.0 / dt)
    decay_exc, decay_inh = np.exp(-dt / tau_exc), np.exp(-dt / tau_inh)
    decay_m = np.exp(-dt / tau_minus)

    # every synapse starts at gmax, or spread uniformly over [0, gmax]
    w = rng.uniform(0.0, g_max, n_exc) if uniform_start else np.full(n_exc, g_max)
    p_val = np.zeros(n_exc)  # potentiation trace P_a, in units of A+
    p_time = np.zeros(n_exc)
    m = 0.0  # depression trace M (<= 0)
    v, g_e, g_i = v_rest, 0.0, 0.0
    spikes_post: list[float] = []

    chunk = 2000
    for start in range(0, n_steps, chunk):
        steps = min(chunk, n_steps - start)
        n_events = rng.poisson(n_exc * rate_exc_hz * steps * dt / 1000.0)
        ev_step = np.sort(rng.integers(0, steps, n_events))
        ev_syn = rng.integers(0, n_exc, n_events)
        bounds = np.searchsorted(ev_step, np.arange(steps + 1))
        inh_counts = rng.poisson(n_inh * rate_inh_hz * dt / 1000.0, steps)
        for k in range(steps):
            t = (start + k) * dt
            g_e *= decay_exc
            g_i = g_i * decay_inh + g_inh * inh_counts[k]
            m *= decay_m
            lo, hi = bounds[k], bounds[k + 1]
            if hi > lo:
                # this step's pre spikes arrive at its start, after every earlier post spike
                idx = ev_syn[lo:hi]
                g_e += w[idx].sum()
                w[idx] = np.maximum(w[idx] + g_max * m, 0.0)
                p_val[idx] = p_val[idx] * np.exp(-(t - p_time[idx]) / tau_plus) + a_plus
                p_time[idx] = t
            g_tot = 1.0 + g_e + g_i
            v_inf = (v_rest + g_e * e_exc + g_i * e_inh) / g_tot
            v = v_inf + (v - v_inf) * np.exp(-dt * g_tot / tau_m)
            if v >= v_th:
                # the post spike falls at the step's end, after its pre spikes: potentiation
                v = v_reset
                spikes_post.append(t + dt)
                p_now = p_val * np.exp(-(t + dt - p_time) / tau_plus)
                np.minimum(w + g_max * p_now, g_max, out=w)
                m -= a_minus * np.exp(dt / tau_minus)  # decays back to A- by the next step's start

    bins = np.arange(0.0, duration_s + 1e-9, max(duration_s / 30.0, 1.0))
    counts, edges = np.histogram(np.asarray(spikes_post) / 1000.0, bins=bins)
    widths = np.diff(edges)
    return CompetitionResult(
        weights=w / g_max,
        rate_times_s=edges[:-1] + widths / 2,
        rate_hz=counts / widths,
        duration_s=duration_s,
    )
