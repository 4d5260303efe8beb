{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['snapshot_date'],
    meta={'data_version': true},
    post_hook="{{ lakeml_mark_built() }}",
) }}
-- customer_features + label, only where the label window [snapshot_date, snapshot_date + horizon) is
-- complete (every day of it is before the day of the latest order). churned = 1 when the customer
-- placed no order in that window. Incremental runs add the snapshots whose window completed since.
-- A day that completes no label window writes nothing and costs one probe (macros/incremental_work.sql).
{%- set horizon = var('churn_horizon_days') | int %}
{%- set window_complete %}
  date_add(snapshot_date, {{ horizon }}) <= {{ data_end_date(ref('orders')) }}
  {%- if is_incremental() %}
    and snapshot_date > (select coalesce(max(snapshot_date), date'1900-01-01') from {{ this }})
  {%- endif %}
{%- endset %}
{%- set pending = not is_incremental() or lakeml_has_rows(
    'select distinct snapshot_date from ' ~ ref('customer_features') ~ ' where ' ~ window_complete) %}
{%- if pending %}{% do lakeml_mark_written() %}{% endif %}

with features as (
  select *
  from {{ ref('customer_features') }}
  where {{ window_complete }}
  {%- if not pending %} and false{% endif %}
),

future_orders as (
  select f.customer_id, f.snapshot_date, count(o.order_id) as orders_in_window
  from features f
  join {{ ref('orders') }} o
    on o.customer_id = f.customer_id
   and o.order_ts >= cast(f.snapshot_date as timestamp)
   and o.order_ts < cast(date_add(f.snapshot_date, {{ horizon }}) as timestamp)
  group by f.customer_id, f.snapshot_date
)

select
  f.customer_id,
  f.region,
  f.signup_channel,
  f.loyalty_tier,
  f.loyalty_rank,
  f.marketing_opt_in,
  f.tenure_days,
  f.days_since_last_order,
  f.orders_30d,
  f.orders_90d,
  f.orders_365d,
  f.spend_30d,
  f.spend_90d,
  f.spend_365d,
  f.orders_trend_30_90,
  f.spend_trend_30_90,
  f.spend_trend_90_365,
  f.avg_basket_365d,
  f.avg_items_per_order_365d,
  f.discount_share_365d,
  f.cancelled_orders_365d,
  f.returned_orders_365d,
  f.cancel_return_rate_365d,
  f.web_order_share_365d,
  f.app_order_share_365d,
  f.store_order_share_365d,
  f.distinct_categories_365d,
  f.tickets_90d,
  f.high_severity_tickets_90d,
  f.avg_ticket_severity_90d,
  f.open_tickets,
  f.avg_satisfaction_365d,
  f.rated_tickets_365d,
  cast(case when coalesce(fo.orders_in_window, 0) = 0 then 1 else 0 end as int) as churned,
  date_add(f.snapshot_date, {{ horizon }}) as label_window_end,
  f.snapshot_date
from features f
left join future_orders fo on fo.customer_id = f.customer_id and fo.snapshot_date = f.snapshot_date
