{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['order_month'],
) }}
-- Order lines, latest version per line, partitioned by the order's day.
select
  cast(ORDER_ITEM_ID as bigint) as order_item_id,
  cast(ORDER_ID as bigint) as order_id,
  cast(PRODUCT_ID as bigint) as product_id,
  cast(ORDER_TS as timestamp) as order_ts,
  cast(QUANTITY as int) as quantity,
  cast(UNIT_PRICE as decimal(10, 2)) as unit_price,
  cast(DISCOUNT_AMOUNT as decimal(12, 2)) as discount_amount,
  cast(cast(QUANTITY as int) * cast(UNIT_PRICE as decimal(10, 2)) - coalesce(cast(DISCOUNT_AMOUNT as decimal(12, 2)), 0) as decimal(14, 2)) as line_amount,
  cast(UPDATED_AT as timestamp) as updated_at,
  cast(run_id as string) as _run_id,
  cast(_committed_at as timestamp) as _committed_at,
  to_date(ORDER_TS) as order_date,
  trunc(to_date(ORDER_TS), 'MM') as order_month
from ({{ latest_rows('order_items', 'ORDER_ITEM_ID', "trunc(to_date(ORDER_TS), 'MM')") }}) latest
