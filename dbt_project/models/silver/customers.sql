-- Current state of each customer: the latest version (no raw PII: hashed e-mail, no names).
select
  customer_id,
  email_sha256,
  birth_year,
  signup_at,
  signup_channel,
  region,
  loyalty_tier,
  marketing_opt_in,
  valid_from as updated_at,
  _run_id,
  _committed_at
from {{ ref('customer_versions') }}
where valid_to is null
