{{ config(materialized='table', partition_by=['order_month']) }}
-- Orders per day, channel and region, partitioned by month (region of the customer's current profile). A full rebuild: it
-- is a small aggregate, and rebuilding keeps it consistent when a customer moves region.
select
  o.channel,
  coalesce(c.region, 'unknown') as region,
  count(*) as orders,
  count(distinct o.customer_id) as customers,
  sum(case when o.status = 'cancelled' then 1 else 0 end) as cancelled_orders,
  sum(case when o.status = 'returned' then 1 else 0 end) as returned_orders,
  cast(coalesce(sum(o.gross_amount), 0) as double) as gross_amount,
  cast(coalesce(sum(o.discount_amount), 0) as double) as discount_amount,
  cast(coalesce(sum(o.net_amount), 0) as double) as net_amount,
  o.order_date,
  o.order_month
from {{ ref('orders') }} o
left join {{ ref('customers') }} c on c.customer_id = o.customer_id
group by o.order_date, o.order_month, o.channel, coalesce(c.region, 'unknown')
