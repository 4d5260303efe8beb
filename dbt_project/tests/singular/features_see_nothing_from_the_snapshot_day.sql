-- Leakage gate: every input of a snapshot is strictly before its day, so the last order and the
-- signup are at least one calendar day before the snapshot date.
select customer_id, snapshot_date, days_since_last_order, tenure_days
from {{ ref('customer_features') }}
where days_since_last_order < 1 or tenure_days < 1
