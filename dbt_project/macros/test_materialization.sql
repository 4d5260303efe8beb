{#-
  The data-test materialization of lakeml: count first, quarantine only what failed.

  dbt's own test materialization with store_failures writes every test's result to a table and then
  counts that table: two Spark jobs, a drop and a create for each of ~70 tests, although nearly all of
  them pass. Here the test is one counting query; only a test that finds failing rows writes them to
  quarantine.<test> (<lake>/quarantine/dbt/<test>/), and a table left by an earlier failure is dropped
  once the test passes, so the quarantine schema always holds the failing rows of the latest build.
  Status, warn_if/error_if, fail_calc, limit and store_failures_as keep dbt's meaning.

  A test that already passed on exactly the data it reads is not run again (incremental_work.sql,
  `lakeml_unchanged_test_key`): it passes without a query, logged in dbt.log. Only tests whose every input
  is a gold model that records its data version qualify (customer_features, churn_training_set), on the
  days those models write nothing.
-#}
{%- materialization test, default -%}

  {%- set relations = [] -%}
  {%- set limit = config.get('limit') -%}
  {%- set sql_header = config.get('sql_header') if flags.REQUIRE_SQL_HEADER_IN_TEST_CONFIGS else none -%}
  {%- set sql_with_limit -%}
    {{ get_limit_subquery_sql(sql, limit) }}
  {%- endset -%}

  {%- set unchanged = lakeml_unchanged_test_key(sql_with_limit) -%}
  {%- if unchanged is not none and unchanged.recorded == unchanged.key -%}
    {{ log('lakeml: ' ~ model.name ~ ' not run: it passed on this same data (key ' ~ unchanged.key ~ ')') }}
    {%- call statement('main', fetch_result=True) -%}
      select 0 as failures, false as should_warn, false as should_error
    {%- endcall -%}
    {{ return({'relations': relations}) }}
  {%- endif -%}

  {%- call statement('main', fetch_result=True) -%}
    {% if sql_header %}{{ sql_header }}{% endif %}
    {{ get_test_sql(sql_with_limit, config.get('fail_calc'), config.get('warn_if'), config.get('error_if'), limit=none) }}
  {%- endcall -%}
  {%- set outcome = load_result('main')['table'].rows[0] -%}
  {%- if unchanged is not none and not outcome[1] and not outcome[2] -%}
    {%- do lakeml_record_tested(unchanged) -%}
  {%- endif -%}

  {%- if should_store_failures() -%}
    {%- set failures = load_result('main')['table'].rows[0][0] -%}
    {%- set store_as = config.get('store_failures_as') or 'table' -%}
    {%- if store_as not in ['table', 'view'] -%}
      {{ exceptions.raise_compiler_error(
          "store_failures_as '" ~ store_as ~ "' of " ~ model['name'] ~ " is not supported; use table or view") }}
    {%- endif -%}
    {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
    {%- if old_relation -%}
      {%- do adapter.drop_relation(old_relation) -%}
    {%- endif -%}
    {%- if failures is not none and failures | float != 0 -%}
      {%- set target_relation = api.Relation.create(
          identifier=model['alias'], schema=schema, database=database, type=store_as) -%}
      {%- call statement('store_failures') -%}
        {% if sql_header %}{{ sql_header }}{% endif %}
        {{ get_create_sql(target_relation, sql_with_limit) }}
      {%- endcall -%}
      {%- do relations.append(target_relation) -%}
      {{ adapter.commit() }}
    {%- endif -%}
  {%- endif -%}

  {{ return({'relations': relations}) }}

{%- endmaterialization -%}
