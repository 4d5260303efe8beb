{#- Where each layer schema lives in the lake, on every target: silver -> <lake>/silver, gold ->
    <lake>/gold, quarantine -> <lake>/quarantine/dbt (beside ingestion's quarantine/<table>/ of rows
    rejected at landing). Tables are *managed* tables at <schema location>/<model>, so other readers (ML,
    Athena) find them by path and a rebuild drops the old files with the table. -#}
{% macro lakeml_layer_locations() -%}
  {%- set lake = var('lake_root').rstrip('/') -%}
  {{ return({
      'silver': lake ~ '/silver',
      'gold': lake ~ '/gold',
      'quarantine': lake ~ '/quarantine/dbt',
  }) }}
{%- endmacro %}

{#- A statement whose result is not read (DDL). `run_query` fetches a result, which dbt-glue cannot do for
    a statement without columns (its cursor iterates the `null` results of its session code): DDL goes
    through here on every target. -#}
{% macro lakeml_ddl(sql) -%}
  {%- call statement('lakeml_ddl', fetch_result=False, auto_begin=False) -%}
    {{ sql }}
  {%- endcall -%}
{%- endmacro %}

{#- dbt-glue gives every table an explicit LOCATION ('<profile location>/<schema>/<table>'), i.e. an
    external table: a drop leaves its files, so a rebuild (table models, --full-refresh, a test's
    quarantine table) writes into a non-empty folder and fails or mixes stale files in. lakeml's tables
    are managed on both targets instead: no LOCATION unless a model sets `custom_location`, so the table
    lives at its database's location (`place_layer_schemas`) + its name, and a drop deletes its files. -#}
{% macro glue__location_clause() %}
  {%- set custom_location = config.get('custom_location', validator=validation.any[basestring]) -%}
  {%- if custom_location is not none %}
    location '{{ custom_location }}'
  {%- endif %}
{%- endmacro -%}

{#- Glue: dbt-glue creates a missing schema itself (in Python, at '<profile location>/<schema>/', not
    through `create_schema`), so quarantine would live at <lake>/quarantine/ instead of
    <lake>/quarantine/dbt. Run first in on-run-start (before any model or test writes a table): a layer
    database at another location than `lakeml_layer_locations()` says is re-created there while it holds
    no table; one holding tables is an error saying what to do. -#}
{% macro place_layer_schemas() %}
  {%- for schema, location in lakeml_layer_locations().items() -%}
    {%- set found = {} -%}
    {%- for row in run_query('show databases') -%}
      {%- if row[0] | lower == schema -%}{%- do found.update({'exists': true}) -%}{%- endif -%}
    {%- endfor -%}
    {%- if not found -%}
      {%- do lakeml_ddl('create database if not exists ' ~ schema ~ " location '" ~ location ~ "'") -%}
    {%- else -%}
      {%- set current = [] -%}
      {%- for row in run_query('describe database ' ~ schema) -%}
        {%- if row[0] | lower == 'location' -%}{%- do current.append(row[1] | string) -%}{%- endif -%}
      {%- endfor -%}
      {%- if current and current[0].rstrip('/') != location -%}
        {%- if run_query('show tables in ' ~ schema).rows | length > 0 -%}
          {{ exceptions.raise_compiler_error(
              "database " ~ schema ~ " is at " ~ current[0] ~ " but the lake layout puts it at " ~ location
              ~ "; drop it (drop database " ~ schema ~ " cascade) and build again") }}
        {%- endif -%}
        {%- do lakeml_ddl('drop database ' ~ schema) -%}
        {%- do lakeml_ddl('create database ' ~ schema ~ " location '" ~ location ~ "'") -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
