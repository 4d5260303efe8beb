{#-
  register_bronze(): make the bronze sources and the predictions table queryable, on local Spark (Hive
  metastore) and on Glue (Glue Data Catalog) alike, with plain Spark SQL DDL. Runs as on-run-start.

  Layout read (written by ingestion):
    <lake>/bronze/<table>/ingest_date=YYYY-MM-DD/run_id=<run>/part-NNNNN.parquet
    <lake>/bronze/_visible/<table>.json   the visibility index: one JSON line per run a reader may see
                                          (committed and not superseded by a later full refresh), written
                                          by ingestion's one visibility rule (ingestion/visibility.py)
                                          from the manifests under bronze/_manifests/, which dbt never
                                          reads itself.

  Per table:
    bronze.<table>__parts  external Parquet table partitioned by (ingest_date, run_id), its schema read
                           from the parts (so NUMBER(p,s) landed as decimal or as double both work;
                           silver casts). It records the schema fingerprints of the committed runs it
                           was created for (table property lakeml.fingerprints, from the index):
                           while they are unchanged, a run only syncs partitions (MSCK REPAIR ... SYNC
                           PARTITIONS: new runs added, deleted ones dropped, Spark's file cache
                           refreshed); when a run with a new schema is committed it is re-created so
                           the schema is re-read. `--full-refresh` does not need to re-create it.
    bronze.<table>__empty  while a table has no parts yet: the same, declared from the source's columns
                           (bronze.<table>__files, a binaryFile listing, is the probe for parts).
    bronze.<table>         view: parts inner-joined to the table's visibility index = exactly the runs
                           `lakeml ingest verify` counts (uncommitted and superseded runs are hidden).
  Steady state costs one query for all fingerprints plus two metastore statements per table; DDL is
  only issued when something changed.
  Plus bronze._visible (JSON, the index) and predictions.churn_scores_raw (CSV output of batch scoring).
  DDL goes through `lakeml_ddl` (no result fetched: dbt-glue cannot fetch one from a statement without
  columns). On Glue it first puts the layer schemas where the lake layout says (`place_layer_schemas`).
-#}
{% macro register_bronze() %}
  {%- if not execute or target.type not in ('spark', 'glue') -%}
    {{ return('') }}
  {%- endif -%}
  {%- if target.type == 'glue' -%}
    {%- do place_layer_schemas() -%}
  {%- endif -%}
  {%- set lake = var('lake_root').rstrip('/') -%}
  {%- set schema = 'bronze' -%}
  {%- do lakeml_ddl('create database if not exists ' ~ schema) -%}
  {%- do lakeml_ddl('create database if not exists predictions') -%}
  {#- partition values stay strings (a run id of digits must not become an int) -#}
  {%- do run_query('set spark.sql.sources.partitionColumnTypeInference.enabled=false') -%}
  {%- set existing = [] -%}
  {%- for row in run_query('show tables in ' ~ schema) -%}
    {%- do existing.append(row[1] | lower) -%}
  {%- endfor -%}

  {#- a metastore registered before the visibility index joined the views to every manifest (which let
      superseded runs through): drop that table and re-create every view -#}
  {%- set migrating = '_manifests' in existing -%}
  {%- if migrating -%}
    {%- do lakeml_ddl('drop table ' ~ schema ~ '._manifests') -%}
  {%- endif -%}
  {%- if '_visible' not in existing -%}
    {%- do lakeml_ddl(
        'create table ' ~ schema ~ '._visible (`table` string, run_id string, ingest_date string, '
        ~ 'mode string, committed_at string, schema_fingerprint string, landed bigint) using json '
        ~ "options (pathGlobFilter '*.json') "
        ~ "location '" ~ lake ~ "/bronze/_visible'") -%}
  {%- else -%}
    {%- do lakeml_ddl('refresh table ' ~ schema ~ '._visible') -%}
  {%- endif -%}

  {#- the schema fingerprints of each table's visible runs, in one query -#}
  {%- set fingerprints = {} -%}
  {%- for row in run_query(
      "select lower(`table`), concat_ws(',', array_sort(collect_set(schema_fingerprint))) from "
      ~ schema ~ "._visible group by lower(`table`)") -%}
    {%- do fingerprints.update({row[0]: row[1]}) -%}
  {%- endfor -%}

  {%- for node in graph.sources.values() if node.source_name == 'bronze' -%}
    {%- set name = node.identifier -%}
    {%- set location = lake ~ '/bronze/' ~ name -%}
    {%- set parts = schema ~ '.' ~ name ~ '__parts' -%}
    {%- set empty = schema ~ '.' ~ name ~ '__empty' -%}
    {%- set files = schema ~ '.' ~ name ~ '__files' -%}
    {%- set wanted = fingerprints.get(name, '') -%}
    {%- if (name ~ '__parts') in existing -%}
      {%- set recorded = run_query("show tblproperties " ~ parts ~ " ('lakeml.fingerprints')").columns[-1].values()[0] -%}
      {%- if recorded == wanted and not migrating -%}
        {%- do lakeml_ddl('msck repair table ' ~ parts ~ ' sync partitions') -%}
      {%- else -%}
        {%- do lakeml_ddl('drop table ' ~ parts) -%}
        {%- do existing.remove(name ~ '__parts') -%}
      {%- endif -%}
    {%- endif -%}
    {%- if (name ~ '__parts') not in existing -%}
      {%- if (name ~ '__files') not in existing -%}
        {%- do lakeml_ddl('create table if not exists ' ~ files ~ ' using binaryFile '
            ~ "options (recursiveFileLookup 'true', pathGlobFilter '*.parquet') location '" ~ location ~ "'") -%}
      {%- endif -%}
      {%- do lakeml_ddl('refresh table ' ~ files) -%}
      {%- set found = run_query('select count(*) from (select path from ' ~ files ~ ' limit 1)').columns[0].values()[0] -%}
      {%- if found | int > 0 -%}
        {%- do lakeml_ddl('create table ' ~ parts ~ " using parquet location '" ~ location ~ "' "
            ~ "tblproperties ('lakeml.fingerprints' = '" ~ wanted ~ "')") -%}
        {%- do lakeml_ddl('msck repair table ' ~ parts) -%}
        {%- set source_table = parts -%}
      {%- else -%}
        {%- set declared = [] -%}
        {%- for column in node.columns.values() if column.name not in ('ingest_date', 'run_id', '_committed_at') -%}
          {%- do declared.append(column.name ~ ' ' ~ column.data_type) -%}
        {%- endfor -%}
        {%- do lakeml_ddl('create table if not exists ' ~ empty ~ ' (' ~ declared | join(', ')
            ~ ', ingest_date string, run_id string) using parquet partitioned by (ingest_date, run_id) '
            ~ "location '" ~ location ~ "'") -%}
        {%- set source_table = empty -%}
      {%- endif -%}
      {%- do lakeml_ddl(
          'create or replace view ' ~ schema ~ '.' ~ name ~ ' as '
          ~ 'select p.*, m.committed_at as _committed_at from ' ~ source_table ~ ' p '
          ~ 'join (select run_id, max(to_timestamp(committed_at)) as committed_at from ' ~ schema ~ '._visible '
          ~ "where lower(`table`) = '" ~ name ~ "' group by run_id) m on p.run_id = m.run_id") -%}
    {%- endif -%}
  {%- endfor -%}

  {%- do lakeml_ddl(
      'create table if not exists predictions.churn_scores_raw (customer_id bigint, churn_probability double) '
      ~ "using csv location '" ~ lake ~ "/predictions/churn_scores'") -%}
  {%- do lakeml_ddl('refresh table predictions.churn_scores_raw') -%}
{% endmacro %}
