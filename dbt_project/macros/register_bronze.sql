{#-
  register_bronze(): make the bronze sources and the predictions table queryable, on local Spark (Hive
  metastore) and on Glue (Glue Data Catalog) alike, with plain Spark SQL DDL. Runs as on-run-start.

  Layout read (written by ingestion):
    <lake>/bronze/<table>/ingest_date=YYYY-MM-DD/run_id=<run>/part-NNNNN.parquet
    <lake>/bronze/_manifests/<table>/<run>.json   (one JSON line; written after the parts = the commit)

  Per table:
    bronze.<table>__files  binaryFile listing of the parts (cheap probe: are there any parts?)
    bronze.<table>__parts  external Parquet table partitioned by (ingest_date, run_id). With parts, its
                           schema is read from them (so NUMBER(p,s) landed as decimal or as double both
                           work; silver casts); without, it is declared from the source's columns.
                           Dropped and re-created every run (metadata only) + partitions recovered, so
                           new runs and schema changes are picked up.
    bronze.<table>         view: parts inner-joined to the manifests of that table = committed runs only.
  Plus bronze._manifests (JSON) and predictions.churn_scores_raw (CSV output of batch scoring).
-#}
{% macro register_bronze() %}
  {%- if not execute or target.type not in ('spark', 'glue') -%}
    {{ return('') }}
  {%- endif -%}
  {%- set lake = var('lake_root').rstrip('/') -%}
  {%- set schema = 'bronze' -%}
  {%- do run_query('create database if not exists ' ~ schema) -%}
  {%- do run_query('create database if not exists predictions') -%}
  {#- partition values stay strings (a run id of digits must not become an int) -#}
  {%- do run_query('set spark.sql.sources.partitionColumnTypeInference.enabled=false') -%}

  {%- do run_query('drop table if exists ' ~ schema ~ '._manifests') -%}
  {%- do run_query(
      'create table ' ~ schema ~ '._manifests (`table` string, run_id string, ingest_date string, '
      ~ 'window_low string, window_high string, extracted bigint, landed bigint, quarantined bigint, '
      ~ 'committed_at string, schema_fingerprint string) using json '
      ~ "options (recursiveFileLookup 'true', pathGlobFilter '*.json') "
      ~ "location '" ~ lake ~ "/bronze/_manifests'") -%}

  {%- for node in graph.sources.values() if node.source_name == 'bronze' -%}
    {%- set name = node.identifier -%}
    {%- set location = lake ~ '/bronze/' ~ name -%}
    {%- set files = schema ~ '.' ~ name ~ '__files' -%}
    {%- set parts = schema ~ '.' ~ name ~ '__parts' -%}
    {%- do run_query('drop table if exists ' ~ files) -%}
    {%- do run_query('create table ' ~ files ~ ' using binaryFile '
        ~ "options (recursiveFileLookup 'true', pathGlobFilter '*.parquet') location '" ~ location ~ "'") -%}
    {%- set found = run_query('select count(*) from (select path from ' ~ files ~ ' limit 1)').columns[0].values()[0] -%}
    {%- do run_query('drop table if exists ' ~ parts) -%}
    {%- if found | int > 0 -%}
      {%- do run_query('create table ' ~ parts ~ ' using parquet '
          ~ "location '" ~ location ~ "'") -%}
    {%- else -%}
      {%- set declared = [] -%}
      {%- for column in node.columns.values() if column.name not in ('ingest_date', 'run_id', '_committed_at') -%}
        {%- do declared.append(column.name ~ ' ' ~ column.data_type) -%}
      {%- endfor -%}
      {%- do run_query('create table ' ~ parts ~ ' (' ~ declared | join(', ')
          ~ ', ingest_date string, run_id string) using parquet partitioned by (ingest_date, run_id) '
          ~ "location '" ~ location ~ "'") -%}
    {%- endif -%}
    {%- do run_query('msck repair table ' ~ parts) -%}
    {%- do run_query(
        'create or replace view ' ~ schema ~ '.' ~ name ~ ' as '
        ~ 'select p.*, m.committed_at as _committed_at from ' ~ parts ~ ' p '
        ~ 'join (select run_id, max(to_timestamp(committed_at)) as committed_at from ' ~ schema ~ '._manifests '
        ~ "where lower(`table`) = '" ~ name ~ "' group by run_id) m on p.run_id = m.run_id") -%}
  {%- endfor -%}

  {%- do run_query(
      'create table if not exists predictions.churn_scores_raw (customer_id bigint, churn_probability double) '
      ~ "using csv location '" ~ lake ~ "/predictions/churn_scores'") -%}
{% endmacro %}
