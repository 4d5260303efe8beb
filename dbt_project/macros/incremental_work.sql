{#-
  What an incremental build of a gold model has to do, decided before Spark plans the model.

  `lakeml_has_rows(sql)`: whether a (cheap) query returns any row. customer_features and
  churn_training_set ask it on an incremental build ("is there a snapshot date after the latest one
  built?"); when the answer is no -- six days out of seven, since snapshots are weekly -- their
  driving relation is filtered by `where false`, and Spark's optimizer collapses the whole plan (every
  join is an inner or left join from it) to an empty insert that rewrites no partition, instead of
  scanning and joining all of history to produce nothing.
  Full builds (`this` absent, --full-refresh) and unit tests (is_incremental mocked false) never ask.

  `lakeml_mark_written()`: on local Spark, records on the model's table which build last wrote it
  (table property lakeml.data_version = dbt's invocation id), before the write; `lakeml_mark_built()`,
  their post-hook, gives a table built from scratch its version after the write. Models that do this say
  so with `meta={'data_version': true}`. The data-test materialization (test_materialization.sql) skips
  a test whose every input is such a model, unchanged since the same test (same SQL, same config) last
  passed on it (`lakeml_unchanged_test_key`); a table without the property (a fresh or fully rebuilt
  one) is always tested, and so is every test reading a source or another model. Every way this can
  go wrong (a lost property write, a failed build) makes a test run again, never skips one.
-#}
{% macro lakeml_has_rows(sql) -%}
  {%- if not execute -%}{{ return(true) }}{%- endif -%}
  {%- set found = run_query('select 1 from (' ~ sql ~ ') probe limit 1') -%}
  {{ return(found.rows | length > 0) }}
{%- endmacro %}

{% macro lakeml_mark_written() -%}
  {%- if execute and target.type == 'spark' and flags.WHICH in ('build', 'run') and is_incremental() -%}
    {%- do lakeml_ddl('alter table ' ~ this ~ " set tblproperties ('lakeml.data_version' = '" ~ invocation_id ~ "')") -%}
  {%- endif -%}
{%- endmacro %}

{#- post-hook of the same models: a table built from scratch (first build, --full-refresh) or one from
    before data versions gets one now, after the write; an existing version is left as it is. -#}
{% macro lakeml_mark_built() -%}
  {%- if execute and target.type == 'spark' -%}
    {%- set found = [] -%}
    {%- for row in run_query('show tblproperties ' ~ this) if row[0] == 'lakeml.data_version' -%}
      {%- do found.append(row[1]) -%}
    {%- endfor -%}
    {%- if not found -%}
      {%- do lakeml_ddl('alter table ' ~ this ~ " set tblproperties ('lakeml.data_version' = '" ~ invocation_id ~ "')") -%}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}

{#- The key under which a data test may be skipped: none when it must run (not local Spark, an input
    that is not a `data_version` model or lacks the property); else the test's marker property, the
    table holding it and the key it must equal (the inputs' data versions + the test's SQL and config).
    A passing test records the key with `lakeml_record_tested`. -#}
{% macro lakeml_unchanged_test_key(sql) -%}
  {%- if target.type != 'spark' or flags.WHICH not in ('build', 'test') -%}{{ return(none) }}{%- endif -%}
  {%- set inputs = model.depends_on.nodes -%}
  {%- if not inputs -%}{{ return(none) }}{%- endif -%}
  {%- set versions = [] -%}
  {%- set holder = [] -%}
  {%- for unique_id in inputs -%}
    {%- set node = graph.nodes.get(unique_id) -%}
    {%- if node is none or node.resource_type != 'model' or not node.config.meta.get('data_version') -%}
      {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if relation is none -%}{{ return(none) }}{%- endif -%}
    {%- set properties = {} -%}
    {%- for row in run_query('show tblproperties ' ~ relation) -%}
      {%- do properties.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- if 'lakeml.data_version' not in properties -%}{{ return(none) }}{%- endif -%}
    {%- do versions.append(unique_id ~ '=' ~ properties['lakeml.data_version']) -%}
    {%- if not holder -%}{%- do holder.extend([relation, properties]) -%}{%- endif -%}
  {%- endfor -%}
  {%- set settings = [config.get('severity'), config.get('warn_if'), config.get('error_if'),
                      config.get('fail_calc'), config.get('limit'), config.get('where')] -%}
  {%- set marker = 'lakeml.tested.' ~ local_md5(model.unique_id) -%}
  {%- set key = local_md5(versions | join(',') ~ '|' ~ sql ~ '|' ~ settings | join('|')) -%}
  {{ return({'marker': marker, 'relation': holder[0], 'recorded': holder[1].get(marker), 'key': key}) }}
{%- endmacro %}

{% macro lakeml_record_tested(state) -%}
  {%- do lakeml_ddl('alter table ' ~ state.relation ~ " set tblproperties ('" ~ state.marker ~ "' = '"
      ~ state.key ~ "')") -%}
{%- endmacro %}
