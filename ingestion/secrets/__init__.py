"""The secrets port: where Snowflake credentials come from (settings locally, Secrets Manager on AWS).

`port.py` holds the Protocol; `settings_secrets.py` (local) and `secrets_manager.py` (AWS) are the
adapters, chosen by `lakeml.wiring`.
"""
