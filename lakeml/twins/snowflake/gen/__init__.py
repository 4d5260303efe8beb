"""The churn data generator's parts, each one responsibility.

`lakeml.twins.snowflake.generator` is the public entry point (seed/advance/drift/reset). Pure functions
(numpy/pyarrow in, numpy/pyarrow out): `rng.py` (random streams), `sim.py` (customer traits, the daily
simulation, row life cycles), `catalogue.py` (products and prices), `rows.py` (customer, order, item and
ticket rows), `columns.py` (arrow columns), `bad.py` (bad rows on purpose). Talking to the source:
`sql.py` (the connection, bulk loads), `state.py` (what the generator remembers in LAKEML_META),
`updates.py` (the update simulation of existing rows), `drift.py` (schema drift).
"""
