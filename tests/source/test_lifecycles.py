"""Row life cycles and random streams as pure functions: no server needed."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lakeml.core.errors import UsageError
from lakeml.twins.snowflake.gen.rng import keyed_uniform, stream
from lakeml.twins.snowflake.gen.sim import DAY_S, draw_traits, order_state, simulate, ticket_state
from lakeml.twins.snowflake.generator import SeedConfig

ORDER_RANK = {0: 0, 1: 1, 2: 2, 3: 1, 4: 3}  # placed < shipped|cancelled < delivered < returned


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**31), first_id=st.integers(1, 10**9), t1=st.integers(0, 60), t2=st.integers(0, 60)
)
def test_order_status_only_moves_forward_and_never_after_the_clock(seed, first_id, t1, t2):
    ids = np.arange(first_id, first_id + 500, dtype=np.int64)
    placed = 1_700_000_000 + np.arange(500, dtype=np.int64) * 997
    early, late = sorted((placed.max() + t1 * DAY_S, placed.max() + t2 * DAY_S))
    s1, u1 = order_state(seed, ids, placed, early)
    s2, u2 = order_state(seed, ids, placed, late)
    assert (u1 <= early).all() and (u2 <= late).all() and (u1 >= placed).all()
    assert (u2 >= u1).all()
    rank = np.vectorize(ORDER_RANK.get)
    assert (rank(s2) >= rank(s1)).all()
    assert not ((s1 == 3) & (s2 != 3)).any(), "a cancelled order never comes back"
    changed = s1 != s2
    assert (u2[changed] > early).all(), "a transition after the old clock is stamped after it"


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), days=st.integers(0, 40))
def test_ticket_resolution_and_score_are_consistent_at_any_clock(seed, days):
    ids = np.arange(1, 301, dtype=np.int64)
    created = 1_700_000_000 + ids * 1_000
    severity = ids % 4
    clock = int(created.max()) + days * DAY_S
    status, resolved_at, score, updated = ticket_state(seed, ids, created, severity, np.zeros(300), clock)
    resolved = status >= 2
    assert (updated <= clock).all() and (updated >= created).all()
    assert ((resolved_at >= 0) == resolved).all()
    assert (resolved_at[resolved] <= updated[resolved]).all()
    assert ((score > 0) <= resolved).all(), "only resolved tickets carry a survey score"
    assert ((score >= 0) & (score <= 5)).all()


def test_keyed_draws_depend_only_on_seed_id_and_key():
    ids = np.array([5, 6, 7], dtype=np.int64)
    assert np.array_equal(keyed_uniform(1, ids, 3), keyed_uniform(1, ids[::-1], 3)[::-1])
    assert not np.array_equal(keyed_uniform(1, ids, 3), keyed_uniform(2, ids, 3))
    assert not np.array_equal(keyed_uniform(1, ids, 3), keyed_uniform(1, ids, 4))
    draws = keyed_uniform(9, np.arange(100_000, dtype=np.int64), 0)
    assert draws.min() >= 0 and draws.max() < 1 and abs(draws.mean() - 0.5) < 0.01


def test_simulation_is_a_function_of_its_stream():
    def run() -> tuple[np.ndarray, ...]:
        traits = draw_traits(stream(3, 0, 0, "traits"), np.arange(1, 2001), 0, 99, prehistory=True)
        events = simulate(traits, stream(3, 0, 0, "days"), date(2025, 1, 1), 0, 100)
        return events.order_customer, events.order_day, events.ticket_severity, traits.CHURN_DAY

    for first, second in zip(run(), run(), strict=True):
        assert np.array_equal(first, second)


def test_churned_customers_stop_buying():
    traits = draw_traits(stream(4, 0, 0, "traits"), np.arange(1, 5001), 0, 0, prehistory=False)
    traits.CHURN_DAY[:2500] = 0  # half churn on day 0
    events = simulate(traits, stream(4, 0, 0, "days"), date(2025, 1, 1), 0, 180)
    late = events.order_day >= 90
    churned_orders = np.sum(late & (events.order_customer < 2500))
    active_orders = np.sum(late & (events.order_customer >= 2500))
    assert churned_orders < 0.1 * active_orders


@pytest.mark.parametrize(
    ("config", "flag"),
    [
        (SeedConfig(customers=0), "--customers"),
        (SeedConfig(days=0), "--days"),
        (SeedConfig(bad_rate=0.7), "--bad-rate"),
        (SeedConfig(seed=-1), "--seed"),
    ],
)
def test_bad_seed_config_is_a_usage_error_naming_the_flag(config, flag):
    with pytest.raises(UsageError, match=flag):
        config.validate()
