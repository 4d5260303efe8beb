-- Bronze as dbt reads it is bronze as ingestion commits it: every bronze relation holds exactly the rows
-- of the runs in ingestion's visibility index (committed, not superseded), the same runs
-- `lakeml ingest verify` counts. A superseded run leaking through, or a visible run missing, fails the
-- build before silver reads bronze. Returns one row per table whose counts differ.
{%- set tables = ['customers', 'products', 'orders', 'order_items', 'support_tickets'] %}
select * from (
{%- for table in tables %}
  select
    '{{ table }}' as bronze_table,
    (select count(*) from {{ source('bronze', table) }}) as rows_in_relation,
    (select coalesce(sum(landed), 0) from bronze._visible where lower(`table`) = '{{ table }}') as rows_in_visible_runs
  {%- if not loop.last %} union all{% endif %}
{%- endfor %}
) counts
where rows_in_relation != rows_in_visible_runs
