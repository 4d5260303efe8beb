-- Every known version of every customer profile, with its validity interval [valid_from, valid_to).
-- Gold reads the version valid at each snapshot date, so features never see a later profile edit.
-- No raw PII reaches bronze: the extraction view hashed the e-mail in Snowflake (EMAIL_SHA256, taken as
-- is, never hashed again) and did not extract names.
with versions as (
  select *
  from (
    select
      b.*,
      row_number() over (
        partition by b.CUSTOMER_ID, b.UPDATED_AT order by b._committed_at desc, b.run_id desc
      ) as _copy_rank
    from {{ source('bronze', 'customers') }} b
  ) copies
  where _copy_rank = 1
)

select
  cast(CUSTOMER_ID as bigint) as customer_id,
  cast(UPDATED_AT as timestamp) as valid_from,
  cast(lead(UPDATED_AT) over (partition by CUSTOMER_ID order by UPDATED_AT) as timestamp) as valid_to,
  cast(EMAIL_SHA256 as string) as email_sha256,
  cast(BIRTH_YEAR as int) as birth_year,
  cast(SIGNUP_AT as timestamp) as signup_at,
  {{ conform('SIGNUP_CHANNEL') }} as signup_channel,
  {{ conform('REGION') }} as region,
  {{ conform('LOYALTY_TIER') }} as loyalty_tier,
  cast(MARKETING_OPT_IN as boolean) as marketing_opt_in,
  cast(run_id as string) as _run_id,
  cast(_committed_at as timestamp) as _committed_at
from versions
