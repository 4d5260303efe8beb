{#- Layers are schemas (Spark/Glue databases) named exactly bronze/silver/gold/quarantine, not
    <target schema>_<layer>: the lake layout and other readers (ML, Athena) rely on these names. The
    snowflake targets put extraction views in <database>.<custom schema> likewise. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
