-- Bundles (issue #19; the same schema as the SQLite twin): a product that grants several of its creator's one-time products at
-- once. Buying it is one order of the bundle's product; the ledger's grant gives the buyer each
-- part with that order as the grant's source, and a refund takes back only what that order still
-- grants (`payments::payable`).
CREATE TABLE bundle_items (
    bundle_id  BIGINT  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    product_id BIGINT  NOT NULL REFERENCES products (id),
    -- Where the creator put it in the bundle's list.
    position   BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (bundle_id, product_id),
    CHECK (bundle_id <> product_id)
);
-- "Which bundles hold this product" (a refund looking for another grant, reviews' eligibility).
CREATE INDEX bundle_items_product ON bundle_items (product_id);
