"""The product catalogue and its price book: which products exist, how popular, and their price on any day.

Products are the same for every command of one seed (`catalogue()` re-derives them); prices change on
dated days (`PriceBook`), so an order item always carries the list price of its order's day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ingestion import schema
from lakeml.twins.snowflake.gen.columns import money, ts_array
from lakeml.twins.snowflake.gen.rng import stream
from lakeml.twins.snowflake.gen.sim import DAY_S, NEVER

_ADJECTIVES = np.array(
    ["Classic", "Smart", "Eco", "Mini", "Pro", "Daily", "Fresh", "Ultra", "Basic", "Premium"], dtype=object
)
_NOUNS = {
    "grocery": "Coffee Tea Pasta Olive-Oil Granola Chocolate",
    "home": "Lamp Towel Mug Pan Pillow Vase",
    "electronics": "Headphones Charger Speaker Keyboard Mouse Cable",
    "fashion": "Jacket Scarf Sneakers Shirt Jeans Hat",
    "beauty": "Shampoo Serum Lotion Soap Perfume Balm",
    "toys": "Puzzle Robot Blocks Doll Kite Ball",
    "sports": "Yoga-Mat Bottle Racket Gloves Helmet Band",
}
_CATEGORY_PRICE = {  # median list price in cents per category
    "grocery": 600,
    "home": 2500,
    "electronics": 6000,
    "fashion": 4000,
    "beauty": 1800,
    "toys": 2200,
    "sports": 3500,
}
MAX_PRICE_CHANGES = 3


@dataclass
class Catalogue:
    """Products as arrays; `popularity` sums to 1 over active products (inactive ones are never sold)."""

    product_id: np.ndarray
    category: np.ndarray
    base_cents: np.ndarray
    active: np.ndarray
    popularity: np.ndarray
    created_s: np.ndarray


def catalogue(seed: int, n_products: int, start_s: int) -> Catalogue:
    """The product catalogue for a seed: the same products every time (advance re-derives popularity)."""
    rng = stream(seed, 0, 0, "products")
    categories = np.array(schema.CATEGORIES, dtype=object)
    category = categories[rng.integers(0, len(categories), n_products)]
    median = np.array([_CATEGORY_PRICE[c] for c in category], dtype=float)
    base = np.maximum(99, np.round(median * np.exp(0.5 * rng.standard_normal(n_products)) / 10) * 10 - 1)
    active = rng.random(n_products) > 0.05
    weight = (1.0 / np.arange(1, n_products + 1)) ** 0.9
    weight = weight[rng.permutation(n_products)] * active
    created = start_s - rng.integers(30, 720, n_products) * DAY_S + rng.integers(0, DAY_S, n_products)
    return Catalogue(
        product_id=np.arange(1, n_products + 1, dtype=np.int64),
        category=category,
        base_cents=base.astype(np.int64),
        active=active,
        popularity=weight / weight.sum(),
        created_s=created,
    )


@dataclass
class PriceBook:
    """List price of each product on each day: a base price plus up to MAX_PRICE_CHANGES dated changes."""

    base_cents: np.ndarray
    change_day: np.ndarray  # (products, MAX_PRICE_CHANGES), ascending, NEVER when unused
    change_cents: np.ndarray
    change_second: np.ndarray

    @classmethod
    def with_changes(
        cls, rng: np.random.Generator, base_cents: np.ndarray, active: np.ndarray, day0: int, ndays: int
    ) -> PriceBook:
        """Random price changes (about one per product per 250 days) inside [day0, day0 + ndays)."""
        n = len(base_cents)
        count = np.minimum(rng.poisson(ndays / 250.0, n), MAX_PRICE_CHANGES) * active
        days = np.sort(rng.integers(day0, day0 + ndays, (n, MAX_PRICE_CHANGES)), axis=1)
        used = np.arange(MAX_PRICE_CHANGES)[None, :] < count[:, None]
        change_day = np.where(used, days, NEVER)
        order = np.argsort(change_day, axis=1)
        change_day = np.take_along_axis(change_day, order, axis=1)
        factors = np.cumprod(rng.uniform(0.88, 1.15, (n, MAX_PRICE_CHANGES)), axis=1)
        cents = np.maximum(99, np.round(base_cents[:, None] * factors / 10) * 10 - 1).astype(np.int64)
        return cls(base_cents, change_day, cents, rng.integers(0, DAY_S, (n, MAX_PRICE_CHANGES)))

    def price_on(self, product_index: np.ndarray, day: np.ndarray) -> np.ndarray:
        applied = (self.change_day[product_index] <= day[:, None]).sum(axis=1)
        changed = self.change_cents[product_index, np.maximum(applied - 1, 0)]
        return np.where(applied == 0, self.base_cents[product_index], changed)

    def final(self) -> tuple[np.ndarray, np.ndarray]:
        """(price in cents, day of the last change or NEVER) after every change."""
        applied = (self.change_day < NEVER).sum(axis=1)
        last = np.maximum(applied - 1, 0)
        rows = np.arange(len(self.base_cents))
        price = np.where(applied == 0, self.base_cents, self.change_cents[rows, last])
        day = np.where(applied == 0, NEVER, self.change_day[rows, last])
        return price, day

    def last_change_seconds(self, start_s: int) -> np.ndarray:
        """Epoch seconds of each product's last change (meaningful where final()[1] < NEVER)."""
        _, day = self.final()
        applied = (self.change_day < NEVER).sum(axis=1)
        second = self.change_second[np.arange(len(day)), np.maximum(applied - 1, 0)]
        return start_s + np.where(day < NEVER, day, 0) * DAY_S + second


def product_table(cat: Catalogue, price: np.ndarray, updated_s: np.ndarray) -> pa.Table:
    rng = stream(0, 0, 0, "product-names")  # names are cosmetic and the same for every seed
    adjective = _ADJECTIVES[rng.integers(0, len(_ADJECTIVES), len(cat.product_id))]
    noun_index = rng.integers(0, 6, len(cat.product_id))
    names = [
        f"{a} {_NOUNS[c].split()[i]}" for a, c, i in zip(adjective, cat.category, noun_index, strict=True)
    ]
    sku = [f"{c[:3].upper()}-{p:06d}" for c, p in zip(cat.category, cat.product_id, strict=True)]
    return pa.table(
        {
            "PRODUCT_ID": pa.array(cat.product_id),
            "SKU": pa.array(sku, pa.string()),
            "PRODUCT_NAME": pa.array(names, pa.string()),
            "CATEGORY": pa.array(cat.category, pa.string()),
            "LIST_PRICE": money(price),
            "IS_ACTIVE": pa.array(cat.active),
            "UPDATED_AT": ts_array(updated_s),
        }
    )
