"""The churn data generator's parts: random streams, the customer simulation, row building, bad rows, SQL.

`lakeml.twins.snowflake.generator` is the public entry point (seed/advance/drift/reset); these modules are pure
functions (numpy/pyarrow in, numpy/pyarrow out) except `sql.py`, the only one that talks to the source.
"""
