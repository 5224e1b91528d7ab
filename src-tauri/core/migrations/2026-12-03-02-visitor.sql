-- Each planned visit carries its own throw-away visitor id (Matomo's `cid`, 16 hex digits), so that
-- Matomo counts every session as its own visitor. The id is drawn when the batch is planned, kept
-- with the hit so that a resend after an interrupted batch sends exactly the same request, and
-- deleted with the row once Matomo has the hit. NULL: no id (late units, batches planned earlier).
ALTER TABLE batch_hit ADD COLUMN visitor TEXT;
