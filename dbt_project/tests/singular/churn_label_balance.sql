-- Label-balance gate: a training set whose churn rate is outside [churn_rate_min, churn_rate_max]
-- (all churners or none) means a broken label window or a broken source; it must not reach training.
select churn_rate, rows_labelled
from (
  select avg(cast(churned as double)) as churn_rate, count(*) as rows_labelled
  from {{ ref('churn_training_set') }}
) balance
where rows_labelled > 0
  and (churn_rate < {{ var('churn_rate_min') }} or churn_rate > {{ var('churn_rate_max') }})
