{#- Row-count sanity: fails (one row saying the count) when the model has fewer than min_rows or more
    than max_rows rows (max optional). Catches an empty build or a fan-out join. -#}
{% test row_count_between(model, min_rows=1, max_rows=none) %}
select row_count
from (select count(*) as row_count from {{ model }}) counted
where row_count < {{ min_rows }}
  {%- if max_rows is not none %} or row_count > {{ max_rows }}{% endif %}
{% endtest %}
