//! Whom an order grants to: its payer, unless it is a gift, which grants to the friend who
//! claimed it (and to nobody before the claim). Below the ledger, the reviews and the library,
//! which all ask it; it imports nothing.

/// Whether order `o` grants to `$user` (an SQL expression of a bind parameter or column).
macro_rules! order_grants_to {
    ($user:literal) => {
        concat!(
            "((o.user_id = ",
            $user,
            " AND NOT o.gift) OR EXISTS (SELECT 1 FROM gifts g WHERE g.order_id = o.id
                                            AND g.claimed_by = ",
            $user,
            "))"
        )
    };
}
pub(crate) use order_grants_to;

/// Who receives what order `o` delivers: the friend who claimed a gift, else the payer.
macro_rules! recipient {
    () => {
        "(COALESCE((SELECT g.claimed_by FROM gifts g WHERE g.order_id = o.id), o.user_id))"
    };
}
pub(crate) use recipient;
