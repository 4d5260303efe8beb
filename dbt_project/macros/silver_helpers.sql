{#- Conformed enum value: trimmed, lower case, empty -> null. Unknown values are kept as they are so
    the accepted_values tests see them (and gate gold) instead of being silently mapped away. -#}
{% macro conform(column) -%}
  nullif(lower(trim(cast({{ column }} as string))), '')
{%- endmacro %}

{#- Rows of a committed bronze table, one per key: the latest version by UPDATED_AT (ties: the run
    committed last). Incrementally (`date_expr` given), only the date partitions that a run committed
    after this model's last build touched are read, and they are rebuilt from every version in bronze,
    so insert_overwrite replaces each touched partition with its complete, deduplicated content.
    Assumes the partition date of a key never changes between versions (orders keep their ORDER_TS). -#}
{% macro latest_rows(table, key, date_expr=none) -%}
  {%- set src = source('bronze', table) -%}
  select * from (
    select
      b.*,
      row_number() over (
        partition by b.{{ key }} order by b.UPDATED_AT desc, b._committed_at desc, b.run_id desc
      ) as _version_rank
    from {{ src }} b
    {%- if date_expr is not none and is_incremental() %}
    where {{ date_expr }} in (
      select distinct {{ date_expr }} from {{ src }}
      where _committed_at > (
        select coalesce(max(_committed_at), timestamp'1900-01-01 00:00:00') from {{ this }}
      )
    )
    {%- endif %}
  ) ranked
  where _version_rank = 1
{%- endmacro %}
