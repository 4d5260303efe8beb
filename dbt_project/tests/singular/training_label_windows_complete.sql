-- Only complete label windows: no training row may look past the day of the latest order.
select t.customer_id, t.snapshot_date, t.label_window_end
from {{ ref('churn_training_set') }} t
cross join (select to_date(max(order_ts)) as data_end from {{ ref('orders') }}) bounds
where t.label_window_end > bounds.data_end
