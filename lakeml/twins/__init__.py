"""Local twins of external systems (Snowflake today). Only the app layer and tests import them: no
production code path depends on a twin, and `.importlinter` keeps it that way."""
