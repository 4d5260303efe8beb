"""The local Snowflake twin: a fakesnow server per LAKEML_HOME (`server.py`, `fakesnow_server.py`),
connections to it (`connection.py`), the churn data generator (`generator.py` over `gen/`), and the
handle the wiring hands the app layer (`twin.py`: `SnowflakeTwin`). It reads the source's schema from
`ingestion.schema`; nothing in ingestion, transform or ml_pipelines imports it."""
