-- The shop lifted its own cancellation of a membership (editUserStarSubscription with
-- is_canceled = false). That only allows the buyer to turn renewal back on in Telegram: the
-- membership stays canceled (canceled_at) until a renewal charge shows they did.
ALTER TABLE memberships ADD COLUMN renewal_allowed_at BIGINT;
