"""The source-connection port: one kept Snowflake connection per process, local twin or real account.

`port.py` holds the Protocol (and the error for a missing source object); `kept.py` the process-wide
kept connection with its health check; `params.py` the connector's keyword arguments; `local.py` (the
fakesnow twin, credentials from settings) and `aws.py` (Snowflake, credentials through the secrets port)
are the adapters, chosen by `lakeml.wiring`.
"""
