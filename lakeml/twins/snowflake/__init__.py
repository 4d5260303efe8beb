"""The Snowflake source: the local twin (fakesnow server), connections, and the churn data generator."""
