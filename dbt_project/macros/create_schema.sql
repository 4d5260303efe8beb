{#- Local Spark: layer schemas at their lake locations (`lakeml_layer_locations`, lake_layout.sql), so
    their tables are managed tables at <lake>/<layer>/<model>. On Glue dbt-glue creates schemas itself;
    `place_layer_schemas` (on-run-start) puts them at the same locations. -#}
{% macro spark__create_schema(relation) -%}
  {%- set location = lakeml_layer_locations().get(relation.schema) -%}
  {%- call statement('create_schema') -%}
    create schema if not exists {{ relation.without_identifier() }}
    {%- if location %} location '{{ location }}'{% endif %}
  {%- endcall -%}
{%- endmacro %}
