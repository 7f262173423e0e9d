"""Tests of gnn.losses.cox_ph_loss against a naive Breslow partial likelihood."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn import cox_ph_loss


def naive_breslow(eta: list[float], time: list[float], event: list[int]) -> float:
    """Negative Breslow partial log-likelihood averaged over events, by explicit loops."""
    total, events = 0.0, 0
    for i in range(len(eta)):
        if event[i]:
            risk_set = [math.exp(eta[j]) for j in range(len(eta)) if time[j] >= time[i]]
            total += eta[i] - math.log(sum(risk_set))
            events += 1
    return -total / events


def test_hand_case_with_ties() -> None:
    eta = [0.5, -0.2, 1.0, 0.0, 0.3]
    time = [2.0, 2.0, 1.0, 3.0, 2.0]
    event = [1, 1, 0, 1, 0]
    # events at t=2 (two tied, risk set {0,1,3,4}) and t=3 (risk set {3})
    risk2 = math.log(math.exp(0.5) + math.exp(-0.2) + math.exp(0.0) + math.exp(0.3))
    expected = -((0.5 - risk2) + (-0.2 - risk2) + (0.0 - 0.0)) / 3
    got = cox_ph_loss(torch.tensor(eta), torch.tensor(time), torch.tensor(event))
    assert math.isclose(got.item(), expected, rel_tol=1e-6)
    assert math.isclose(expected, naive_breslow(eta, time, event), rel_tol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(-3, 3), st.integers(1, 5), st.booleans()), min_size=2, max_size=12
    ).filter(lambda rows: any(r[2] for r in rows))
)
def test_matches_naive_reference(data: list[tuple[float, int, bool]]) -> None:
    eta, time, event = (list(x) for x in zip(*data))
    got = cox_ph_loss(
        torch.tensor(eta, dtype=torch.float64),
        torch.tensor(time, dtype=torch.float64),
        torch.tensor(event),
    )
    assert math.isclose(
        got.item(),
        naive_breslow(eta, [float(t) for t in time], [int(e) for e in event]),
        rel_tol=1e-9,
        abs_tol=1e-9,
    )


def test_no_event_gives_zero_with_gradient() -> None:
    eta = torch.tensor([0.1, 0.2], requires_grad=True)
    loss = cox_ph_loss(eta, torch.tensor([1.0, 2.0]), torch.tensor([0, 0]))
    loss.backward()
    assert loss.item() == 0.0
    assert eta.grad is not None


def test_gradient_raises_risk_of_early_events() -> None:
    eta = torch.zeros(3, requires_grad=True)
    cox_ph_loss(
        eta.unsqueeze(1), torch.tensor([1.0, 2.0, 3.0]), torch.tensor([True, True, False])
    ).backward()
    assert eta.grad[0] < 0 < eta.grad[2]
