-- Each account's last visit, kept by statement triggers on interactions, so the nearby list
-- reads one row per account by key instead of scanning its interactions (0.35 of 0.9 ms of
-- a nearest-25 search at 1M). A table of its own keeps the accounts' heap untouched (it is
-- clustered by location for the KNN scan).
CREATE TABLE account_last_visits (
    account_id    bigint PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
    last_visit_at timestamptz NOT NULL
);
INSERT INTO account_last_visits (account_id, last_visit_at)
SELECT account_id, max(occurred_at) FROM interactions WHERE kind = 'visit' GROUP BY account_id;

CREATE FUNCTION note_added_visits() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO account_last_visits (account_id, last_visit_at)
    SELECT account_id, max(occurred_at) FROM added WHERE kind = 'visit' GROUP BY account_id
    ON CONFLICT (account_id) DO UPDATE
        SET last_visit_at = greatest(account_last_visits.last_visit_at, EXCLUDED.last_visit_at);
    RETURN NULL;
END
$$;

CREATE FUNCTION recount_last_visits() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS touched_accounts (account_id bigint PRIMARY KEY) ON COMMIT DROP;
    INSERT INTO touched_accounts SELECT DISTINCT account_id FROM removed ON CONFLICT DO NOTHING;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO touched_accounts SELECT DISTINCT account_id FROM added ON CONFLICT DO NOTHING;
    END IF;
    DELETE FROM account_last_visits l USING touched_accounts t WHERE l.account_id = t.account_id;
    INSERT INTO account_last_visits (account_id, last_visit_at)
    SELECT i.account_id, max(i.occurred_at) FROM interactions i JOIN touched_accounts t USING (account_id)
    JOIN accounts a ON a.account_id = i.account_id
    WHERE i.kind = 'visit' GROUP BY i.account_id;
    DROP TABLE touched_accounts;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION note_added_visits(), recount_last_visits() FROM PUBLIC;

CREATE TRIGGER interactions_added_visits AFTER INSERT ON interactions
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION note_added_visits();
CREATE TRIGGER interactions_removed_visits AFTER DELETE ON interactions
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION recount_last_visits();
CREATE TRIGGER interactions_changed_visits AFTER UPDATE ON interactions
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION recount_last_visits();

ALTER TABLE account_last_visits ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_last_visits FORCE ROW LEVEL SECURITY;
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_all ON account_last_visits TO %I USING (true) WITH CHECK (true)', current_user);
END
$$;
GRANT SELECT ON account_last_visits TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped;
CREATE POLICY app_scope ON account_last_visits FOR SELECT TO gcrm_app, gcrm_admin, gcrm_marketer
    USING ((SELECT gcrm_sees_all()) OR account_id IN (SELECT a.account_id FROM accounts a));
CREATE POLICY admin_all ON account_last_visits FOR SELECT TO gcrm_admin USING (true);
CREATE POLICY marketer_all ON account_last_visits FOR SELECT TO gcrm_marketer USING (true);
CREATE POLICY scoped ON account_last_visits FOR SELECT TO gcrm_scoped
    USING (account_id IN (SELECT a.account_id FROM accounts a));
