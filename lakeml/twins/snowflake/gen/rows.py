"""Rows of the customer, order, item and ticket tables, built column-wise (numpy -> pyarrow) from traits and simulated events.

Amounts are computed in integer cents so ORDER_ITEMS always add up to ORDERS exactly:
GROSS_AMOUNT = sum(QUANTITY * UNIT_PRICE), DISCOUNT_AMOUNT = sum(item DISCOUNT_AMOUNT),
NET_AMOUNT = GROSS_AMOUNT - DISCOUNT_AMOUNT, ITEM_COUNT = number of ORDER_ITEMS lines.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ingestion import schema
from lakeml.twins.snowflake.gen.catalogue import Catalogue, PriceBook
from lakeml.twins.snowflake.gen.columns import money, ts_array
from lakeml.twins.snowflake.gen.sim import DAY_S, Events, Traits, order_state, ticket_state

FIRST_NAMES = np.array(
    [
        "Ava",
        "Ben",
        "Chloe",
        "Daniel",
        "Emma",
        "Felix",
        "Grace",
        "Henry",
        "Isla",
        "Jack",
        "Kara",
        "Liam",
        "Maya",
        "Noah",
        "Olivia",
        "Paul",
        "Quinn",
        "Rosa",
        "Sam",
        "Tara",
        "Umar",
        "Vera",
        "Will",
        "Xena",
        "Yusuf",
        "Zoe",
        "Aiko",
        "Bruno",
        "Carmen",
        "Dmitri",
        "Elena",
        "Farid",
        "Gita",
        "Hugo",
        "Ines",
        "Jonas",
        "Leila",
        "Mateo",
        "Nadia",
        "Omar",
    ],
    dtype=object,
)
LAST_NAMES = np.array(
    [
        "Smith",
        "Jones",
        "Brown",
        "Taylor",
        "Wilson",
        "Davies",
        "Evans",
        "Thomas",
        "Johnson",
        "Roberts",
        "Walker",
        "Wright",
        "Green",
        "Hall",
        "Wood",
        "Clarke",
        "Patel",
        "Khan",
        "Garcia",
        "Muller",
        "Rossi",
        "Novak",
        "Silva",
        "Kim",
        "Nguyen",
        "Chen",
        "Okafor",
        "Haddad",
        "Larsen",
        "Dubois",
        "Costa",
        "Ivanova",
        "Fischer",
        "Moreau",
        "Jansen",
        "Lopez",
        "Sato",
        "Singh",
        "Ali",
        "Berg",
    ],
    dtype=object,
)
DOMAINS = np.array(["example.com", "mail.test", "inbox.example", "post.example.org"], dtype=object)
LANGUAGES = np.array(["en", "de", "fr", "es", "it", "nl"], dtype=object)
_HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 7, 8, 10, 12, 12, 10, 6, 3], float)


# --- customers ---------------------------------------------------------------------------------------------


def customer_table(
    rng: np.random.Generator, traits: Traits, start_s: int, clock: int, with_language: bool
) -> pa.Table:
    """Profiles of these customers as of `clock`; some had a profile edit after sign-up (newer UPDATED_AT)."""
    n = len(traits)
    first = FIRST_NAMES[rng.integers(0, len(FIRST_NAMES), n)]
    last = LAST_NAMES[rng.integers(0, len(LAST_NAMES), n)]
    domain_index = rng.integers(0, len(DOMAINS), n)
    signup_s = start_s + traits.SIGNUP_DAY * DAY_S + traits.SIGNUP_SECOND
    tier_score = traits.ENGAGEMENT + 0.5 * rng.standard_normal(n)
    tier = np.digitize(tier_score, [0.0, 0.7, 1.4])
    opt_in = traits.MARKETING_OPT_IN.copy()
    # one profile edit (new e-mail domain, opt-in flip or tier change) during the simulated history
    visible_from = np.maximum(signup_s, start_s)
    exposure_days = np.maximum(clock - visible_from, 0) / DAY_S
    edited = rng.random(n) < 1 - np.exp(-0.0015 * exposure_days)
    edit_s = visible_from + (rng.random(n) * np.maximum(clock - visible_from, 0)).astype(np.int64)
    kind = rng.integers(0, 3, n)
    domain_index = np.where(edited & (kind == 0), (domain_index + 1) % len(DOMAINS), domain_index)
    opt_in = np.where(edited & (kind == 1), ~opt_in, opt_in)
    tier = np.where(edited & (kind == 2), np.minimum(tier + 1, 3), tier)
    updated_s = np.where(edited, edit_s, signup_s)
    ids = traits.CUSTOMER_ID
    email = [
        f"{f.lower()}.{ln.lower()}{i}@{DOMAINS[d]}"
        for f, ln, i, d in zip(first, last, ids, domain_index, strict=True)
    ]
    columns = {
        "CUSTOMER_ID": pa.array(ids),
        "EMAIL": pa.array(email, pa.string()),
        "FIRST_NAME": pa.array(first, pa.string()),
        "LAST_NAME": pa.array(last, pa.string()),
        "BIRTH_YEAR": pa.array(rng.integers(1950, 2006, n)),
        "SIGNUP_AT": ts_array(signup_s),
        "SIGNUP_CHANNEL": pa.array(np.array(schema.CHANNELS, dtype=object)[traits.CHANNEL], pa.string()),
        "REGION": pa.array(
            np.array(schema.REGIONS, dtype=object)[rng.integers(0, len(schema.REGIONS), n)], pa.string()
        ),
        "LOYALTY_TIER": pa.array(np.array(schema.LOYALTY_TIERS, dtype=object)[tier], pa.string()),
        "MARKETING_OPT_IN": pa.array(opt_in),
        "UPDATED_AT": ts_array(updated_s),
    }
    if with_language:
        columns["PREFERRED_LANGUAGE"] = pa.array(LANGUAGES[rng.integers(0, len(LANGUAGES), n)], pa.string())
    return pa.table(columns)


# --- orders and items --------------------------------------------------------------------------------------


def order_tables(
    seed: int,
    rng: np.random.Generator,
    traits: Traits,
    events: Events,
    prices: PriceBook,
    cat: Catalogue,
    first_order_id: int,
    first_item_id: int,
    start_s: int,
    clock: int,
) -> tuple[pa.Table, pa.Table]:
    """ORDERS and ORDER_ITEMS for the simulated orders; statuses as of `clock`."""
    m = len(events.order_day)
    hour = rng.choice(24, size=m, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    order_ts = start_s + events.order_day * DAY_S + hour * 3600 + rng.integers(0, 3600, m)
    order = np.lexsort((events.order_customer, order_ts))
    cust = events.order_customer[order]
    order_ts = order_ts[order]
    day = events.order_day[order]
    order_id = first_order_id + np.arange(m, dtype=np.int64)
    channel = np.where(rng.random(m) < 0.75, traits.CHANNEL[cust], rng.integers(0, 3, m))
    lines = 1 + np.minimum(rng.poisson(0.9 + 0.5 * np.clip(traits.ENGAGEMENT[cust], 0, None)), 7)
    discounted = rng.random(m) < 0.02 + 0.9 * traits.PRICE_SENSITIVITY[cust]
    rate = np.round(rng.uniform(0.1, 0.3, m) * 20) / 20
    item_order = np.repeat(np.arange(m), lines)
    n_items = len(item_order)
    active = np.flatnonzero(cat.active)
    product = rng.choice(active, size=n_items, p=cat.popularity[active])
    quantity = 1 + np.minimum(rng.poisson(0.25, n_items), 4)
    unit = prices.price_on(product, day[item_order])
    line_gross = quantity * unit
    line_discount = np.where(discounted[item_order], np.round(line_gross * rate[item_order]), 0).astype(
        np.int64
    )
    gross = np.bincount(item_order, weights=line_gross, minlength=m).astype(np.int64)
    discount = np.bincount(item_order, weights=line_discount, minlength=m).astype(np.int64)
    status, updated = order_state(seed, order_id, order_ts, clock)
    channels = np.array(schema.CHANNELS, dtype=object)
    orders = pa.table(
        {
            "ORDER_ID": pa.array(order_id),
            "CUSTOMER_ID": pa.array(traits.CUSTOMER_ID[cust]),
            "ORDER_TS": ts_array(order_ts),
            "CHANNEL": pa.array(channels[channel], pa.string()),
            "STATUS": pa.array(np.array(schema.ORDER_STATUSES, dtype=object)[status], pa.string()),
            "ITEM_COUNT": pa.array(lines.astype(np.int64)),
            "GROSS_AMOUNT": money(gross),
            "DISCOUNT_AMOUNT": money(discount),
            "NET_AMOUNT": money(gross - discount),
            "UPDATED_AT": ts_array(updated),
        }
    )
    items = pa.table(
        {
            "ORDER_ITEM_ID": pa.array(first_item_id + np.arange(n_items, dtype=np.int64)),
            "ORDER_ID": pa.array(order_id[item_order]),
            "PRODUCT_ID": pa.array(cat.product_id[product]),
            "ORDER_TS": ts_array(order_ts[item_order]),
            "QUANTITY": pa.array(quantity.astype(np.int64)),
            "UNIT_PRICE": money(unit),
            "DISCOUNT_AMOUNT": money(line_discount),
            "UPDATED_AT": ts_array(order_ts[item_order]),
        }
    )
    return orders, items


# --- support tickets ---------------------------------------------------------------------------------------

_TICKET_CATEGORY_WEIGHTS = np.array([0.35, 0.2, 0.2, 0.1, 0.15])


def ticket_table(
    seed: int,
    rng: np.random.Generator,
    traits: Traits,
    events: Events,
    first_ticket_id: int,
    start_s: int,
    clock: int,
) -> pa.Table:
    """SUPPORT_TICKETS for the simulated tickets; status, resolution and survey score as of `clock`."""
    k = len(events.ticket_day)
    created = start_s + events.ticket_day * DAY_S + rng.integers(7 * 3600, 22 * 3600, k)
    order = np.lexsort((events.ticket_customer, created))
    cust = events.ticket_customer[order]
    created = created[order]
    severity = events.ticket_severity[order]
    ticket_id = first_ticket_id + np.arange(k, dtype=np.int64)
    category = rng.choice(len(schema.TICKET_CATEGORIES), size=k, p=_TICKET_CATEGORY_WEIGHTS)
    status, resolved_at, score, updated = ticket_state(
        seed, ticket_id, created, severity, traits.SATISFACTION[cust], clock
    )
    return ticket_rows(
        ticket_id, traits.CUSTOMER_ID[cust], created, category, severity, status, resolved_at, score, updated
    )


def ticket_rows(
    ticket_id: np.ndarray,
    customer_id: np.ndarray,
    created: np.ndarray,
    category: np.ndarray,
    severity: np.ndarray,
    status: np.ndarray,
    resolved_at: np.ndarray,
    score: np.ndarray,
    updated: np.ndarray,
) -> pa.Table:
    return pa.table(
        {
            "TICKET_ID": pa.array(ticket_id),
            "CUSTOMER_ID": pa.array(customer_id),
            "CREATED_AT": ts_array(created),
            "CATEGORY": pa.array(np.array(schema.TICKET_CATEGORIES, dtype=object)[category], pa.string()),
            "SEVERITY": pa.array(np.array(schema.TICKET_SEVERITIES, dtype=object)[severity], pa.string()),
            "STATUS": pa.array(np.array(schema.TICKET_STATUSES, dtype=object)[status], pa.string()),
            "SATISFACTION_SCORE": pa.array(score, pa.int64(), mask=score == 0),
            "RESOLVED_AT": ts_array(np.maximum(resolved_at, 0), valid=resolved_at >= 0),
            "UPDATED_AT": ts_array(updated),
        }
    )
