{#- Rows for which a boolean SQL expression over the model's columns is false or null. -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
