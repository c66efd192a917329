ALTER TABLE criteria_actions DROP CONSTRAINT criteria_actions_source_check;
ALTER TABLE criteria_actions DROP CONSTRAINT criteria_actions_action_check;
ALTER TABLE criteria_actions ADD CONSTRAINT criteria_actions_action_check
    CHECK (action IN ('add', 'remove', 'refine'));
