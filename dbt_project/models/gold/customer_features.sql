{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['snapshot_date'],
    meta={'data_version': true},
    post_hook="{{ lakeml_mark_built() }}",
) }}
-- One row per customer per snapshot date; every input is strictly before the snapshot (00:00 UTC of
-- snapshot_date): orders placed, status changes made, tickets opened/resolved and profile versions
-- written before it. Incremental runs add only snapshot dates after the latest one built (older
-- snapshots cannot change: their inputs are all in the past). A day that completes no new snapshot
-- date (six out of seven) writes nothing and costs one probe (macros/incremental_work.sql).
{%- set pending_sql %}
  select snapshot_date from ({{ snapshot_grid(ref('orders')) }}) grid
  {%- if is_incremental() %}
  where snapshot_date > (select coalesce(max(snapshot_date), date'1900-01-01') from {{ this }})
  {%- endif %}
{%- endset %}
{%- set pending = not is_incremental() or lakeml_has_rows(pending_sql) %}
{%- if pending %}{% do lakeml_mark_written() %}{% endif %}

with new_snapshots as (
  select snapshot_date, cast(snapshot_date as timestamp) as snapshot_ts
  from ({{ pending_sql }}) pending
  {%- if not pending %}
  where false
  {%- endif %}
),

-- The profile version valid at the snapshot: the latest written before it; for customers whose first
-- known version is later (loaded after an edit), the earliest known one.
profile_candidates as (
  select
    s.snapshot_date,
    s.snapshot_ts,
    v.*,
    row_number() over (
      partition by v.customer_id, s.snapshot_date
      order by case when v.valid_from < s.snapshot_ts then 0 else 1 end,
               case when v.valid_from < s.snapshot_ts then v.valid_from end desc,
               v.valid_from asc
    ) as _pick
  from new_snapshots s
  join {{ ref('customer_versions') }} v on v.signup_at < s.snapshot_ts
),

spine as (
  select
    customer_id, snapshot_date, snapshot_ts, signup_at,
    coalesce(region, 'unknown') as region,
    coalesce(signup_channel, 'unknown') as signup_channel,
    coalesce(loyalty_tier, 'none') as loyalty_tier,
    coalesce(marketing_opt_in, false) as marketing_opt_in
  from profile_candidates
  where _pick = 1
),

-- Last order strictly before each snapshot, over all history: snapshots and orders in one ordered
-- stream per customer; on a tie (an order at exactly 00:00 of the snapshot day) the snapshot comes
-- first, so that order is not "before" it.
events as (
  select customer_id, snapshot_ts as event_ts, 0 as event_order, snapshot_date, cast(null as timestamp) as order_ts
  from spine
  union all
  select customer_id, order_ts as event_ts, 1 as event_order, cast(null as date) as snapshot_date, order_ts
  from {{ ref('orders') }}
),

last_order as (
  select customer_id, snapshot_date, last_order_ts
  from (
    select
      customer_id, snapshot_date,
      max(order_ts) over (
        partition by customer_id order by event_ts, event_order
        rows between unbounded preceding and current row
      ) as last_order_ts
    from events
  ) stream
  where snapshot_date is not null
),

order_window as (
  select
    s.customer_id,
    s.snapshot_date,
    count(o.order_id) as orders_365d,
    sum(case when o.order_ts >= cast(date_sub(s.snapshot_date, 90) as timestamp) then 1 else 0 end) as orders_90d,
    sum(case when o.order_ts >= cast(date_sub(s.snapshot_date, 30) as timestamp) then 1 else 0 end) as orders_30d,
    coalesce(sum(o.net_amount), 0) as spend_365d,
    coalesce(sum(case when o.order_ts >= cast(date_sub(s.snapshot_date, 90) as timestamp) then o.net_amount end), 0) as spend_90d,
    coalesce(sum(case when o.order_ts >= cast(date_sub(s.snapshot_date, 30) as timestamp) then o.net_amount end), 0) as spend_30d,
    coalesce(sum(o.gross_amount), 0) as gross_365d,
    coalesce(sum(o.discount_amount), 0) as discount_365d,
    coalesce(sum(o.item_count), 0) as items_365d,
    sum(case when o.status = 'cancelled' and o.updated_at < s.snapshot_ts then 1 else 0 end) as cancelled_orders_365d,
    sum(case when o.status = 'returned' and o.updated_at < s.snapshot_ts then 1 else 0 end) as returned_orders_365d,
    sum(case when o.channel = 'web' then 1 else 0 end) as web_orders_365d,
    sum(case when o.channel = 'app' then 1 else 0 end) as app_orders_365d,
    sum(case when o.channel = 'store' then 1 else 0 end) as store_orders_365d
  from spine s
  left join {{ ref('orders') }} o
    on o.customer_id = s.customer_id
   and o.order_ts < s.snapshot_ts
   and o.order_ts >= cast(date_sub(s.snapshot_date, 365) as timestamp)
  group by s.customer_id, s.snapshot_date
),

bought_categories as (
  select distinct o.customer_id, i.order_ts, p.category
  from {{ ref('order_items') }} i
  join {{ ref('orders') }} o on o.order_id = i.order_id
  join {{ ref('products') }} p on p.product_id = i.product_id
),

category_window as (
  select s.customer_id, s.snapshot_date, count(distinct c.category) as distinct_categories_365d
  from spine s
  join bought_categories c
    on c.customer_id = s.customer_id
   and c.order_ts < s.snapshot_ts
   and c.order_ts >= cast(date_sub(s.snapshot_date, 365) as timestamp)
  group by s.customer_id, s.snapshot_date
),

ticket_window as (
  select
    s.customer_id,
    s.snapshot_date,
    sum(case when t.created_at >= cast(date_sub(s.snapshot_date, 90) as timestamp) then 1 else 0 end) as tickets_90d,
    sum(case when t.created_at >= cast(date_sub(s.snapshot_date, 90) as timestamp) and t.severity_rank >= 3 then 1 else 0 end) as high_severity_tickets_90d,
    avg(case when t.created_at >= cast(date_sub(s.snapshot_date, 90) as timestamp) then t.severity_rank end) as avg_ticket_severity_90d,
    sum(case when t.resolved_at is null or t.resolved_at >= s.snapshot_ts then 1 else 0 end) as open_tickets,
    avg(case when t.resolved_at < s.snapshot_ts and t.resolved_at >= cast(date_sub(s.snapshot_date, 365) as timestamp)
             then t.satisfaction_score end) as avg_satisfaction_365d,
    sum(case when t.resolved_at < s.snapshot_ts and t.resolved_at >= cast(date_sub(s.snapshot_date, 365) as timestamp)
              and t.satisfaction_score is not null then 1 else 0 end) as rated_tickets_365d
  from spine s
  join {{ ref('support_tickets') }} t
    on t.customer_id = s.customer_id
   and t.created_at < s.snapshot_ts
  group by s.customer_id, s.snapshot_date
)

select
  s.customer_id,
  s.region,
  s.signup_channel,
  s.loyalty_tier,
  cast(case s.loyalty_tier when 'silver' then 1 when 'gold' then 2 when 'platinum' then 3 else 0 end as int) as loyalty_rank,
  s.marketing_opt_in,
  datediff(s.snapshot_date, to_date(s.signup_at)) as tenure_days,
  coalesce(datediff(s.snapshot_date, to_date(l.last_order_ts)), datediff(s.snapshot_date, to_date(s.signup_at))) as days_since_last_order,
  cast(o.orders_30d as bigint) as orders_30d,
  cast(o.orders_90d as bigint) as orders_90d,
  cast(o.orders_365d as bigint) as orders_365d,
  cast(o.spend_30d as double) as spend_30d,
  cast(o.spend_90d as double) as spend_90d,
  cast(o.spend_365d as double) as spend_365d,
  cast(o.orders_30d - o.orders_90d / 3.0 as double) as orders_trend_30_90,
  cast(o.spend_30d - o.spend_90d / 3.0 as double) as spend_trend_30_90,
  cast(o.spend_90d - o.spend_365d * 90.0 / 365.0 as double) as spend_trend_90_365,
  cast(case when o.orders_365d > 0 then o.spend_365d / o.orders_365d else 0 end as double) as avg_basket_365d,
  cast(case when o.orders_365d > 0 then o.items_365d / o.orders_365d else 0 end as double) as avg_items_per_order_365d,
  cast(case when o.gross_365d > 0 then least(greatest(o.discount_365d / o.gross_365d, 0), 1) else 0 end as double) as discount_share_365d,
  cast(o.cancelled_orders_365d as bigint) as cancelled_orders_365d,
  cast(o.returned_orders_365d as bigint) as returned_orders_365d,
  cast(case when o.orders_365d > 0 then (o.cancelled_orders_365d + o.returned_orders_365d) / o.orders_365d else 0 end as double) as cancel_return_rate_365d,
  cast(case when o.orders_365d > 0 then o.web_orders_365d / o.orders_365d else 0 end as double) as web_order_share_365d,
  cast(case when o.orders_365d > 0 then o.app_orders_365d / o.orders_365d else 0 end as double) as app_order_share_365d,
  cast(case when o.orders_365d > 0 then o.store_orders_365d / o.orders_365d else 0 end as double) as store_order_share_365d,
  cast(coalesce(c.distinct_categories_365d, 0) as bigint) as distinct_categories_365d,
  cast(coalesce(t.tickets_90d, 0) as bigint) as tickets_90d,
  cast(coalesce(t.high_severity_tickets_90d, 0) as bigint) as high_severity_tickets_90d,
  cast(coalesce(t.avg_ticket_severity_90d, 0) as double) as avg_ticket_severity_90d,
  cast(coalesce(t.open_tickets, 0) as bigint) as open_tickets,
  cast(coalesce(t.avg_satisfaction_365d, 0) as double) as avg_satisfaction_365d,
  cast(coalesce(t.rated_tickets_365d, 0) as bigint) as rated_tickets_365d,
  s.snapshot_date
from spine s
join order_window o on o.customer_id = s.customer_id and o.snapshot_date = s.snapshot_date
left join last_order l on l.customer_id = s.customer_id and l.snapshot_date = s.snapshot_date
left join category_window c on c.customer_id = s.customer_id and c.snapshot_date = s.snapshot_date
left join ticket_window t on t.customer_id = s.customer_id and t.snapshot_date = s.snapshot_date
