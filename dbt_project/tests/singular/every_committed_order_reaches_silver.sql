-- Nothing silently dropped: every order key in visible bronze (committed, not superseded) is in silver
-- exactly once.
select b.ORDER_ID as order_id
from (select distinct ORDER_ID from {{ source('bronze', 'orders') }}) b
left join {{ ref('orders') }} s on s.order_id = b.ORDER_ID
where s.order_id is null
