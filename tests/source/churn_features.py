"""RFM-style churn features and labels computed from the raw source tables, for the planted-signal test.

Deliberately simple (what a first model would use): recency, frequency and spend over the last 90/365
days, the trend between the last two quarters, discount share, tickets and severe tickets in the last
90 days, tenure and sign-up channel. Label: no order in the 90 days after the snapshot.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

FEATURES = [
    "recency_days",
    "orders_90d",
    "orders_prev_90d",
    "orders_365d",
    "spend_365d",
    "discount_share",
    "tickets_90d",
    "severe_tickets_90d",
    "tenure_days",
    "channel_app",
    "channel_store",
]


def snapshot_frame(
    customers: pd.DataFrame, orders: pd.DataFrame, tickets: pd.DataFrame, snapshot: date
) -> pd.DataFrame:
    """One row per customer active in the year before `snapshot` (signed up and ordered), with label."""
    t = pd.Timestamp(snapshot)
    day = timedelta(days=1)
    past = orders[orders.ORDER_TS.lt(t)]
    future = orders[orders.ORDER_TS.ge(t) & orders.ORDER_TS.lt(t + 90 * day)]
    year = past[past.ORDER_TS.ge(t - 365 * day)]
    g = year.groupby("CUSTOMER_ID")
    frame = pd.DataFrame(
        {
            "recency_days": (t - g.ORDER_TS.max()).dt.days,
            "orders_365d": g.size(),
            "spend_365d": g.NET_AMOUNT.sum(),
            "discount_share": g.DISCOUNT_AMOUNT.sum() / g.GROSS_AMOUNT.sum().clip(lower=0.01),
        }
    )
    last90 = year[year.ORDER_TS.ge(t - 90 * day)].groupby("CUSTOMER_ID").size()
    prev90 = year[year.ORDER_TS.lt(t - 90 * day) & year.ORDER_TS.ge(t - 180 * day)]
    frame["orders_90d"] = last90.reindex(frame.index).fillna(0)
    frame["orders_prev_90d"] = prev90.groupby("CUSTOMER_ID").size().reindex(frame.index).fillna(0)
    recent_tickets = tickets[tickets.CREATED_AT.lt(t) & tickets.CREATED_AT.ge(t - 90 * day)]
    frame["tickets_90d"] = recent_tickets.groupby("CUSTOMER_ID").size().reindex(frame.index).fillna(0)
    severe = recent_tickets[recent_tickets.SEVERITY.isin(["high", "critical"])]
    frame["severe_tickets_90d"] = severe.groupby("CUSTOMER_ID").size().reindex(frame.index).fillna(0)
    profile = customers.drop_duplicates("CUSTOMER_ID").set_index("CUSTOMER_ID").reindex(frame.index)
    frame["tenure_days"] = (t - profile.SIGNUP_AT).dt.days
    frame["channel_app"] = (profile.SIGNUP_CHANNEL == "app").astype(float)
    frame["channel_store"] = (profile.SIGNUP_CHANNEL == "store").astype(float)
    frame["label"] = (~frame.index.isin(future.CUSTOMER_ID)).astype(int)
    frame["snapshot"] = t
    return frame[frame.tenure_days > 0].replace([np.inf, -np.inf], np.nan).fillna(0)
