-- Current state of the product catalogue: latest version per product.
select
  cast(PRODUCT_ID as bigint) as product_id,
  nullif(trim(SKU), '') as sku,
  nullif(trim(PRODUCT_NAME), '') as product_name,
  {{ conform('CATEGORY') }} as category,
  cast(LIST_PRICE as decimal(10, 2)) as list_price,
  cast(IS_ACTIVE as boolean) as is_active,
  cast(UPDATED_AT as timestamp) as updated_at,
  cast(run_id as string) as _run_id,
  cast(_committed_at as timestamp) as _committed_at
from ({{ latest_rows('products', 'PRODUCT_ID') }}) latest
