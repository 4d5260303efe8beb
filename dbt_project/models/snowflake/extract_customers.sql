{{ config(alias='CUSTOMERS') }}
-- One row per customer; profile edits bump UPDATED_AT. Columns as ingestion/schema.py's
-- extraction_view(CUSTOMERS): the e-mail address and the names never leave Snowflake.
-- EMAIL_SHA256: hex SHA-256 of lower(trim(EMAIL)), the key silver keeps (NULL when EMAIL is NULL).
-- EMAIL_VALID: EMAIL passes the ingestion contract's e-mail rule (ingestion/contracts/suites.py
-- EMAIL_REGEX; REGEXP_LIKE matches the whole value), so ingestion still quarantines a malformed address,
-- by its verdict, without seeing it. A test keeps the two rules identical.
select
  CUSTOMER_ID::NUMBER(38,0) AS CUSTOMER_ID,
  SHA2(LOWER(TRIM(EMAIL)), 256)::VARCHAR AS EMAIL_SHA256,
  REGEXP_LIKE(EMAIL, '[A-Za-z0-9._%+''-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}')::BOOLEAN AS EMAIL_VALID,
  BIRTH_YEAR::NUMBER(4,0) AS BIRTH_YEAR,
  SIGNUP_AT::TIMESTAMP_NTZ AS SIGNUP_AT,
  SIGNUP_CHANNEL::VARCHAR AS SIGNUP_CHANNEL,
  REGION::VARCHAR AS REGION,
  LOYALTY_TIER::VARCHAR AS LOYALTY_TIER,
  MARKETING_OPT_IN::BOOLEAN AS MARKETING_OPT_IN,
  UPDATED_AT::TIMESTAMP_NTZ AS UPDATED_AT
from {{ source('raw', 'CUSTOMERS') }}
