-- The entries still to deliver and those whose delivery failed, found without scanning the
-- log: clients and operators poll `delivery_status=pending` (and `failed`) while a campaign
-- goes out, and each poll was a scan of every entry. Partial, so the rest of the log (most of
-- it: not applicable, or sent) costs the indexes nothing and a finished campaign leaves them
-- empty.
CREATE INDEX interaction_log_entries_pending ON interaction_log_entries (id) WHERE delivery_status = 'pending';
CREATE INDEX interaction_log_entries_failed ON interaction_log_entries (id) WHERE delivery_status = 'failed';
