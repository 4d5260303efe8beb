{#- The snapshot grid, as SQL yielding one row per `snapshot_date`: dates d with
    (d - snapshot_anchor) % snapshot_interval_days == 0, from the first grid date at least
    snapshot_warmup_days after the first order to the day of the latest order (its own day is still
    partial, but a snapshot only uses data strictly before itself). Fixed grid => existing snapshots
    never move as data arrives. -#}
{% macro snapshot_grid(orders_relation) -%}
  {%- set n = var('snapshot_interval_days') | int -%}
  {%- set anchor = "date'" ~ var('snapshot_anchor') ~ "'" -%}
  select explode(sequence(first_snapshot, last_snapshot, interval {{ n }} day)) as snapshot_date
  from (
    select
      date_add({{ anchor }}, cast(ceil(datediff(date_add(data_start, {{ var('snapshot_warmup_days') | int }}), {{ anchor }}) / {{ n }}) * {{ n }} as int)) as first_snapshot,
      date_add({{ anchor }}, cast(floor(datediff(data_end, {{ anchor }}) / {{ n }}) * {{ n }} as int)) as last_snapshot
    from (
      select to_date(min(order_ts)) as data_start, to_date(max(order_ts)) as data_end
      from {{ orders_relation }}
    ) bounds
    where data_start is not null
  ) span
  where first_snapshot <= last_snapshot
{%- endmacro %}

{#- Day of the latest order: days before it are complete, so a label window [S, S + h) is complete
    when S + h <= this day. -#}
{% macro data_end_date(orders_relation) -%}
  (select to_date(max(order_ts)) from {{ orders_relation }})
{%- endmacro %}
