{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['order_month'],
) }}
-- Orders, latest status per order, partitioned by the month the order was placed. Incremental runs
-- rebuild only the months touched by newly committed bronze runs.
select
  cast(ORDER_ID as bigint) as order_id,
  cast(CUSTOMER_ID as bigint) as customer_id,
  cast(ORDER_TS as timestamp) as order_ts,
  {{ conform('CHANNEL') }} as channel,
  {{ conform('STATUS') }} as status,
  cast(ITEM_COUNT as int) as item_count,
  cast(GROSS_AMOUNT as decimal(12, 2)) as gross_amount,
  cast(DISCOUNT_AMOUNT as decimal(12, 2)) as discount_amount,
  cast(NET_AMOUNT as decimal(12, 2)) as net_amount,
  cast(UPDATED_AT as timestamp) as updated_at,
  cast(run_id as string) as _run_id,
  cast(_committed_at as timestamp) as _committed_at,
  to_date(ORDER_TS) as order_date,
  trunc(to_date(ORDER_TS), 'MM') as order_month
from ({{ latest_rows('orders', 'ORDER_ID', "trunc(to_date(ORDER_TS), 'MM')") }}) latest
