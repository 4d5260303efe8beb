{#- Layer schemas live in the lake: silver -> <lake>/silver, gold -> <lake>/gold, quarantine ->
    <lake>/quarantine/dbt. Their tables are then *managed* tables at <lake>/<layer>/<model>: other
    readers (the ML steps, Athena) find them by path, and a table rebuild or full refresh drops the
    old files with the table (an external table's files would survive the drop and block the CTAS).
    Local Spark only; dbt-glue places tables under its profile's `location` the same way. -#}
{% macro spark__create_schema(relation) -%}
  {%- set locations = {
      'silver': '/silver',
      'gold': '/gold',
      'quarantine': '/quarantine/dbt',
  } -%}
  {%- set suffix = locations.get(relation.schema) -%}
  {%- call statement('create_schema') -%}
    create schema if not exists {{ relation.without_identifier() }}
    {%- if suffix %} location '{{ var('lake_root').rstrip('/') ~ suffix }}'{% endif %}
  {%- endcall -%}
{%- endmacro %}
