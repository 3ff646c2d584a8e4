-- Fifth schema step: an owner deletes a plan with a window to undo it. A deleted plan is
-- hidden from its owner, its share link and lists at once, and removed for good at
-- `purge_at` (by the same sweep as expired plans) unless it is restored before.
ALTER TABLE plans ADD COLUMN purge_at TEXT;   -- RFC 3339 UTC; NULL: not deleted
