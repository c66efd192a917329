-- A refresh both adds and removes lines as one recorded action; every action names its source.
ALTER TABLE criteria_actions DROP CONSTRAINT criteria_actions_action_check;
ALTER TABLE criteria_actions ADD CONSTRAINT criteria_actions_action_check
    CHECK (action IN ('add', 'remove', 'refine', 'refresh'));
ALTER TABLE criteria_actions ADD CONSTRAINT criteria_actions_source_check
    CHECK (source IN ('filter', 'saved_criteria', 'logged_segment', 'refresh'));
