//! What makes a review count, and the product's kept figures recounted from the reviews that do.
//! The ledger runs [`RECOUNT`] and [`RESCORE`] in its grant and refund transactions, the reviews'
//! own changes run them too: below both, it imports neither.

/// Whether review `r`'s author paid for its product (itself, or a bundle holding it), or claimed
/// it as a gift, and was not refunded: the one definition of who may review and whose review
/// counts.
macro_rules! paid_for {
    ($user:literal, $product:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM orders o WHERE ",
            $crate::grants::order_grants_to!($user),
            " AND o.status = 'paid' AND (o.product_id = ",
            $product,
            " OR EXISTS (SELECT 1 FROM bundle_items bi WHERE bi.bundle_id = o.product_id
                                 AND bi.product_id = ",
            $product,
            ")))"
        )
    };
}
pub(crate) use paid_for;

/// [`paid_for!`] for review `r`.
macro_rules! paid_by_author {
    () => {
        $crate::ratings::paid_for!("r.user_id", "r.product_id")
    };
}
pub(crate) use paid_by_author;

/// Recounts product `$1`'s rating from its reviews that count. Part of the ledger's grant and
/// revoke too, where it runs in the payment's transaction.
pub const RECOUNT: &str = concat!(
    "UPDATE products SET
         rating_count = (SELECT COUNT(*) FROM reviews r
                         WHERE r.product_id = products.id AND r.hidden_at IS NULL AND ",
    paid_by_author!(),
    "),
         rating_sum = (SELECT COALESCE(SUM(r.rating), 0) FROM reviews r
                       WHERE r.product_id = products.id AND r.hidden_at IS NULL AND ",
    paid_by_author!(),
    ")
     WHERE id = $1"
);
/// The average × 100, rounded, from the counts [`RECOUNT`] left (a second statement: an
/// UPDATE's expressions see the row as it was).
pub const RESCORE: &str = "UPDATE products SET rating_score = CASE WHEN rating_count > 0
         THEN (rating_sum * 100 + rating_count / 2) / rating_count ELSE 0 END
     WHERE id = $1";
