"""Snowflake -> bronze: incremental extraction with watermarks, contracts, quarantine, exactly-once landing."""
