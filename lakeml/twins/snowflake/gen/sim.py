"""The planted signal: latent customer traits, a daily purchase/churn simulation, and row life cycles.

Every customer has hidden traits drawn once at sign-up:
- SATISFACTION (normal): lowers the churn hazard, lowers the ticket rate, raises ticket survey scores.
- PRICE_SENSITIVITY (0..1): raises the churn hazard and the share of orders with a discount.
- ENGAGEMENT (normal, correlated with satisfaction): raises the order rate and basket size, lowers the
  hazard.
- sign-up CHANNEL (app < web < store in churn risk), MARKETING_OPT_IN (a little less churn), and an
  unobservable noise term.

Each simulated day a not-yet-churned customer churns with probability
`exp(BASE_LOG_HAZARD + 1.2 * FRUSTRATION - 0.35 * min(tenure_years, 3))`. FRUSTRATION is raised by every
support ticket (more for high/critical severity) and decays by 2 % a day, so tickets and their severity
raise churn risk for a while. After churning, the purchase rate decays (time constant TAU_DAYS) to a
small floor (occasional win-backs), which is what recency/frequency features see. The label the ML
stages use -- no order in the 90 days after a snapshot -- therefore depends on recency, frequency trends,
tickets and severity, discount habits, channel and tenure, plus noise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from lakeml.twins.snowflake.gen.rng import keyed_normal, keyed_uniform

DAY_S = 86_400
NEVER = 2**30  # CHURN_DAY of a customer who has not churned
LONG_AGO = -(2**30)  # LAST_ORDER_DAY of a customer who never ordered

TAU_DAYS = 20.0  # decay of the purchase rate after churning
WINBACK_FLOOR = 0.03  # fraction of the old purchase rate a churned customer keeps
FRUSTRATION_DECAY = 0.98  # per day
FRUSTRATION_HAZARD = 1.2  # log-hazard per unit of frustration
TENURE_HAZARD = 0.35  # log-hazard per year of tenure (capped at 3 years)
SEVERITY_FRUSTRATION = np.array([0.25, 0.6, 1.3, 2.2])  # low, medium, high, critical
CHANNEL_HAZARD = np.array([0.0, -0.35, 0.3])  # web, app, store (order of schema.CHANNELS)
CHANNEL_SHARES = np.array([0.45, 0.35, 0.20])
PREHISTORY_SHARE = 0.65  # customers who signed up before the first simulated day
PREHISTORY_MAX_DAYS = 3 * 365


@dataclass
class Traits:
    """Hidden state of a set of customers, one array per field; persisted in LAKEML_META.CUSTOMER_STATE."""

    CUSTOMER_ID: np.ndarray
    SIGNUP_DAY: np.ndarray  # days since the start date (negative: signed up before history starts)
    SIGNUP_SECOND: np.ndarray  # second of the sign-up day
    CHANNEL: np.ndarray  # index into schema.CHANNELS
    MARKETING_OPT_IN: np.ndarray
    SATISFACTION: np.ndarray
    PRICE_SENSITIVITY: np.ndarray
    ENGAGEMENT: np.ndarray
    ORDER_RATE: np.ndarray  # orders per day while active
    TICKET_RATE: np.ndarray  # tickets per day right after an order
    BASE_LOG_HAZARD: np.ndarray  # log daily churn probability before tenure and frustration
    CHURN_DAY: np.ndarray
    FRUSTRATION: np.ndarray
    LAST_ORDER_DAY: np.ndarray

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def __len__(self) -> int:
        return len(self.CUSTOMER_ID)

    def take(self, index: np.ndarray) -> Traits:
        return Traits(**{name: getattr(self, name)[index] for name in self.names()})

    @classmethod
    def concat(cls, parts: list[Traits]) -> Traits:
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in cls.names()})


def draw_traits(
    rng: np.random.Generator, ids: np.ndarray, signup_day_low: int, signup_day_high: int, prehistory: bool
) -> Traits:
    """Traits for new customers. With `prehistory`, a share signed up before day 0 (some already churned)."""
    n = len(ids)
    satisfaction = rng.standard_normal(n)
    engagement = 0.35 * satisfaction + np.sqrt(1 - 0.35**2) * rng.standard_normal(n)
    price = rng.beta(2.0, 3.0, n)
    channel = rng.choice(3, size=n, p=CHANNEL_SHARES).astype(np.int8)
    opt_in = rng.random(n) < (0.3 + 0.25 * (engagement > 0))
    order_rate = np.clip(
        np.exp(np.log(1 / 30) + 0.55 * engagement + 0.25 * rng.standard_normal(n)), 1 / 400, 0.5
    )
    ticket_rate = np.clip(0.012 * np.exp(-0.6 * satisfaction + 0.3 * rng.standard_normal(n)), 0.0005, 0.1)
    log_hazard = (
        np.log(0.0016)
        - 0.8 * satisfaction
        + 4.0 * (price - 0.4)
        - 0.35 * engagement
        + CHANNEL_HAZARD[channel]
        - 0.2 * opt_in
        + 0.35 * rng.standard_normal(n)
    )
    signup_day = rng.integers(signup_day_low, signup_day_high + 1, n)
    churn_day = np.full(n, NEVER, dtype=np.int64)
    if prehistory:
        before = rng.random(n) < PREHISTORY_SHARE
        signup_day[before] = -rng.integers(1, PREHISTORY_MAX_DAYS + 1, int(before.sum()))
        # customers who signed up long ago may already have churned before history starts
        exposure = np.minimum(-signup_day, 540).clip(min=0)
        p_gone = 1 - np.exp(-np.exp(log_hazard) * exposure * 0.6)
        gone = before & (rng.random(n) < p_gone)
        churn_day[gone] = signup_day[gone] + (rng.random(int(gone.sum())) * exposure[gone]).astype(np.int64)
    return Traits(
        CUSTOMER_ID=ids.astype(np.int64),
        SIGNUP_DAY=signup_day.astype(np.int64),
        SIGNUP_SECOND=rng.integers(6 * 3600, 23 * 3600, n),
        CHANNEL=channel,
        MARKETING_OPT_IN=opt_in,
        SATISFACTION=satisfaction,
        PRICE_SENSITIVITY=price,
        ENGAGEMENT=engagement,
        ORDER_RATE=order_rate,
        TICKET_RATE=ticket_rate,
        BASE_LOG_HAZARD=log_hazard,
        CHURN_DAY=churn_day,
        FRUSTRATION=np.zeros(n),
        LAST_ORDER_DAY=np.full(n, LONG_AGO, dtype=np.int64),
    )


def season(start: date, day0: int, ndays: int) -> np.ndarray:
    """Demand multiplier per day: weekends and December up, January down."""
    days = np.datetime64(start, "D") + np.arange(day0, day0 + ndays)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    factor = np.where(weekday >= 5, 1.2, 1.0) * np.where(month == 12, 1.3, np.where(month == 1, 0.85, 1.0))
    return factor.astype(np.float64)


@dataclass
class Events:
    """What happened to a chunk of customers: orders and tickets as (customer index, day)."""

    order_customer: np.ndarray
    order_day: np.ndarray
    ticket_customer: np.ndarray
    ticket_day: np.ndarray
    ticket_severity: np.ndarray


def simulate(traits: Traits, rng: np.random.Generator, start: date, day0: int, ndays: int) -> Events:
    """Simulate days [day0, day0 + ndays) for these customers, updating their dynamic traits in place."""
    n = len(traits)
    demand = season(start, day0, ndays)
    oc: list[np.ndarray] = []
    od: list[np.ndarray] = []
    tc: list[np.ndarray] = []
    td: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    signup = traits.SIGNUP_DAY
    for offset in range(ndays):
        d = day0 + offset
        signed = signup <= d
        alive = signed & (d < traits.CHURN_DAY)
        tenure_years = np.clip((d - signup) / 365.0, 0.0, 3.0)
        hazard = np.exp(
            traits.BASE_LOG_HAZARD + FRUSTRATION_HAZARD * traits.FRUSTRATION - TENURE_HAZARD * tenure_years
        )
        churns = alive & (rng.random(n) < hazard)
        traits.CHURN_DAY[churns] = d
        since = np.maximum(d - traits.CHURN_DAY, 0)
        decay = np.where(
            d >= traits.CHURN_DAY, WINBACK_FLOOR + (1 - WINBACK_FLOOR) * np.exp(-since / TAU_DAYS), 1.0
        )
        orders = signed & (rng.random(n) < traits.ORDER_RATE * decay * demand[offset])
        traits.LAST_ORDER_DAY[orders] = d
        recent = (d - traits.LAST_ORDER_DAY) <= 14
        tickets = signed & (rng.random(n) < traits.TICKET_RATE * np.where(recent, 1.0, 0.2))
        traits.FRUSTRATION *= FRUSTRATION_DECAY
        index = np.flatnonzero(orders)
        oc.append(index)
        od.append(np.full(len(index), d, dtype=np.int64))
        index = np.flatnonzero(tickets)
        if len(index):
            severity = _severity(rng, traits.SATISFACTION[index])
            traits.FRUSTRATION[index] += SEVERITY_FRUSTRATION[severity]
            tc.append(index)
            td.append(np.full(len(index), d, dtype=np.int64))
            ts.append(severity)
    empty = np.zeros(0, dtype=np.int64)
    return Events(
        order_customer=np.concatenate(oc) if oc else empty,
        order_day=np.concatenate(od) if od else empty,
        ticket_customer=np.concatenate(tc) if tc else empty,
        ticket_day=np.concatenate(td) if td else empty,
        ticket_severity=np.concatenate(ts) if ts else empty,
    )


def _severity(rng: np.random.Generator, satisfaction: np.ndarray) -> np.ndarray:
    """0 low .. 3 critical; unhappy customers raise more severe tickets."""
    z = -0.7 * satisfaction + rng.standard_normal(len(satisfaction))
    return np.digitize(z, [0.0, 1.0, 2.0]).astype(np.int64)


# --- row life cycles: pure functions of (seed, row id, clock) -------------------------------------------

ORDER_STATUS = np.array(["placed", "shipped", "delivered", "cancelled", "returned"], dtype=object)
TICKET_STATUS = np.array(["open", "pending", "resolved", "closed"], dtype=object)
_RESOLVE_HOURS = np.array([72.0, 48.0, 24.0, 10.0])  # by severity
_SCORE_PENALTY = np.array([0.0, 0.3, 0.8, 1.3])  # by severity


def order_state(
    seed: int, order_id: np.ndarray, order_ts: np.ndarray, clock: int
) -> tuple[np.ndarray, np.ndarray]:
    """(status index, UPDATED_AT seconds) of orders at `clock` (epoch seconds).

    placed -> shipped (6-48 h) -> delivered (1-5 days) -> returned (5 % of orders, 2-28 days later);
    3 % are cancelled within a day instead. Drawn from the order id, so every clock agrees.
    """
    u = [keyed_uniform(seed, order_id, 10 + k) for k in range(5)]
    cancelled = u[0] < 0.03
    t_cancel = order_ts + 600 + (u[1] * 20 * 3600).astype(np.int64)
    t_ship = order_ts + 6 * 3600 + (u[1] * 42 * 3600).astype(np.int64)
    t_deliver = t_ship + DAY_S + (u[2] * 4 * DAY_S).astype(np.int64)
    returned = ~cancelled & (u[3] < 0.05)
    t_return = t_deliver + 2 * DAY_S + (u[4] * 26 * DAY_S).astype(np.int64)
    status = np.select(
        [
            cancelled & (t_cancel <= clock),
            returned & (t_return <= clock),
            ~cancelled & (t_deliver <= clock),
            ~cancelled & (t_ship <= clock),
        ],
        [3, 4, 2, 1],
        default=0,
    )
    updated = np.choose(status, [order_ts, t_ship, t_deliver, t_cancel, t_return])
    return status, updated


def ticket_state(
    seed: int,
    ticket_id: np.ndarray,
    created: np.ndarray,
    severity: np.ndarray,
    satisfaction: np.ndarray,
    clock: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(status index, RESOLVED_AT or -1, SATISFACTION_SCORE or 0, UPDATED_AT) of tickets at `clock`.

    open -> pending (first reply within 8 h) -> resolved (faster for severe tickets) -> closed 7 days later.
    70 % answer the survey at resolution; the score follows the customer's hidden satisfaction and falls
    with severity.
    """
    u = [keyed_uniform(seed, ticket_id, 20 + k) for k in range(3)]
    t_pending = created + 600 + (u[0] * 8 * 3600).astype(np.int64)
    hours = _RESOLVE_HOURS[severity] * (0.3 + 1.7 * u[1])
    t_resolve = np.maximum(created + (hours * 3600).astype(np.int64), t_pending + 600)
    t_close = t_resolve + 7 * DAY_S
    answered = u[2] < 0.7
    score = np.clip(
        np.round(
            3.2 + 1.0 * satisfaction - _SCORE_PENALTY[severity] + 0.8 * keyed_normal(seed, ticket_id, 30)
        ),
        1,
        5,
    ).astype(np.int64)
    status = np.select([t_close <= clock, t_resolve <= clock, t_pending <= clock], [3, 2, 1], default=0)
    resolved = status >= 2
    updated = np.choose(status, [created, t_pending, t_resolve, t_close])
    return status, np.where(resolved, t_resolve, -1), np.where(resolved & answered, score, 0), updated
