-- One live order per buyer and offer, and one held discount-code use per buyer and code, decided
-- by the database so that concurrent Buys cannot both make an order (and an invoice link).

-- Orders made before these rules: the buyer's newest pending order keeps its place, the older
-- ones are cancelled (a charge after their pre-checkout still pays them) and give back their
-- code's use.
UPDATE discount_codes
SET used = CASE WHEN used >= n.extra THEN used - n.extra ELSE 0 END
FROM (SELECT o.discount_code_id AS code_id, COUNT(*) AS extra
      FROM orders o
      WHERE o.status = 'pending' AND o.discount_code_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM orders newer
                    WHERE newer.status = 'pending' AND newer.user_id = o.user_id
                      AND newer.discount_code_id = o.discount_code_id AND newer.id > o.id)
      GROUP BY o.discount_code_id) AS n
WHERE discount_codes.id = n.code_id;

UPDATE orders SET status = 'cancelled'
WHERE status = 'pending' AND discount_code_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM orders newer
              WHERE newer.status = 'pending' AND newer.user_id = orders.user_id
                AND newer.discount_code_id = orders.discount_code_id AND newer.id > orders.id);

-- With the codes settled, only orders without a code can still share an offer.
UPDATE orders SET status = 'cancelled'
WHERE status = 'pending' AND discount_code_id IS NULL
  AND EXISTS (SELECT 1 FROM orders newer
              WHERE newer.status = 'pending' AND newer.user_id = orders.user_id
                AND newer.product_id = orders.product_id
                AND newer.amount_stars = orders.amount_stars
                AND newer.discount_code_id IS NULL AND newer.id > orders.id);

CREATE UNIQUE INDEX orders_one_live_per_offer
    ON orders (user_id, product_id, amount_stars, (COALESCE(discount_code_id, 0)))
    WHERE status = 'pending';

CREATE UNIQUE INDEX orders_one_code_use_per_buyer
    ON orders (user_id, discount_code_id)
    WHERE status = 'pending' AND discount_code_id IS NOT NULL;
