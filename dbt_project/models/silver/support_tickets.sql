{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['created_month'],
) }}
-- Support tickets, latest state per ticket, partitioned by the month the ticket was opened.
select
  cast(TICKET_ID as bigint) as ticket_id,
  cast(CUSTOMER_ID as bigint) as customer_id,
  cast(CREATED_AT as timestamp) as created_at,
  {{ conform('CATEGORY') }} as category,
  {{ conform('SEVERITY') }} as severity,
  cast(case {{ conform('SEVERITY') }}
    when 'low' then 1 when 'medium' then 2 when 'high' then 3 when 'critical' then 4
  end as int) as severity_rank,
  {{ conform('STATUS') }} as status,
  cast(SATISFACTION_SCORE as int) as satisfaction_score,
  cast(RESOLVED_AT as timestamp) as resolved_at,
  cast(UPDATED_AT as timestamp) as updated_at,
  cast(run_id as string) as _run_id,
  cast(_committed_at as timestamp) as _committed_at,
  to_date(CREATED_AT) as created_date,
  trunc(to_date(CREATED_AT), 'MM') as created_month
from ({{ latest_rows('support_tickets', 'TICKET_ID', "trunc(to_date(CREATED_AT), 'MM')") }}) latest
