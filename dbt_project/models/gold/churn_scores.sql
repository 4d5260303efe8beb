{{ config(materialized='view') }}
-- Batch predictions of the churn model: the batch transform's CSV output (`customer_id,score`) under
-- <lake>/predictions/churn_scores/, exposed typed. Empty (not missing) until batch scoring has run.
select
  cast(customer_id as bigint) as customer_id,
  cast(churn_probability as double) as churn_probability,
  cast(input_file_name() as string) as scored_file
from {{ source('predictions', 'churn_scores_raw') }}
where customer_id is not null
