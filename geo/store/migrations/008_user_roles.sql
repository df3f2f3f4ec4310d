-- One database role per kind of user, switched to with SET LOCAL ROLE in each transaction.
--
-- PostGIS operators (&&, ST_Intersects, <-> …) are not LEAKPROOF, so under a row-level
-- security qual that is not constant PostgreSQL may not use them in an index scan: a
-- county-sized audience became a sequential scan of every account (33 → 238 ms at 1M).
-- Users who see every account (admins, marketers) therefore act as a role whose policy is
-- the constant `true`, which the planner folds away; reps and managers act as gcrm_scoped,
-- whose territory qual (integer equality, leakproof) leads with the territory index.
-- gcrm_app, the login role, keeps the policies of 007 and is who an unknown user is.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['gcrm_admin', 'gcrm_marketer', 'gcrm_scoped'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS', r);
        END IF;
        EXECUTE format('GRANT %I TO gcrm_app', r);
    END LOOP;
END
$$;

-- The per-user roles hold exactly the app role's privileges.
DO $$
DECLARE
    r text;
    g record;
BEGIN
    FOREACH r IN ARRAY ARRAY['gcrm_admin', 'gcrm_marketer', 'gcrm_scoped'] LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', r);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', r);
        FOR g IN
            SELECT table_name, string_agg(privilege_type, ', ') AS privileges
            FROM information_schema.role_table_grants
            WHERE grantee = 'gcrm_app' AND table_schema = 'public'
            GROUP BY table_name
        LOOP
            EXECUTE format('GRANT %s ON %I TO %I', g.privileges, g.table_name, r);
        END LOOP;
        EXECUTE format(
            'GRANT SELECT (user_id, username, display_name, email, role, rep_id, territory_code, disabled,'
            ' created_at, last_login_at) ON app_users TO %I', r);
        EXECUTE format(
            'GRANT UPDATE (display_name, email, role, rep_id, territory_code, disabled) ON app_users TO %I', r);
        EXECUTE format(
            'GRANT EXECUTE ON FUNCTION gcrm_role(), gcrm_sees_all(), gcrm_territories(),'
            ' gcrm_identifier_hash(text) TO %I', r);
    END LOOP;
END
$$;

-- Every policy of the app role applies to the per-user roles too.
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT policyname, tablename FROM pg_policies
             WHERE schemaname = 'public' AND 'gcrm_app' = ANY (roles) LOOP
        EXECUTE format('ALTER POLICY %I ON %I TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped',
                       p.policyname, p.tablename);
    END LOOP;
END
$$;

-- Constant policies for the roles that see every account (OR-ed with the ones above).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'accounts', 'contacts', 'interactions', 'orders', 'campaigns', 'campaign_members',
        'campaign_responses', 'geocode_cache', 'import_batches', 'import_rejects'
    ] LOOP
        EXECUTE format('CREATE POLICY admin_all ON %I FOR ALL TO gcrm_admin USING (true) WITH CHECK (true)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY[
        'accounts', 'interactions', 'orders', 'campaigns', 'campaign_members', 'campaign_responses', 'geocode_cache'
    ] LOOP
        EXECUTE format('CREATE POLICY marketer_all ON %I FOR ALL TO gcrm_marketer USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;
CREATE POLICY marketer_consented ON contacts FOR ALL TO gcrm_marketer
    USING (marketing_consent) WITH CHECK (true);

-- The database role a user acts as (the app switches to it with set_config('role', …, true)).
CREATE FUNCTION gcrm_db_role(login text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(
        (SELECT CASE role WHEN 'admin' THEN 'gcrm_admin' WHEN 'marketer' THEN 'gcrm_marketer'
                          ELSE 'gcrm_scoped' END
         FROM app_users WHERE username = login AND NOT disabled),
        'gcrm_app')
$$;
REVOKE ALL ON FUNCTION gcrm_db_role(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gcrm_db_role(text) TO gcrm_app;
GRANT EXECUTE ON FUNCTION gcrm_authenticate(text, text), gcrm_sign_in_by_email(text), gcrm_db_role(text)
    TO gcrm_admin, gcrm_marketer, gcrm_scoped;

-- Reps and managers: their territories' accounts, by the leakproof integer test alone (no OR
-- with "sees everything", so the planner can lead with the territory index).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'accounts', 'contacts', 'interactions', 'orders', 'campaign_members', 'campaign_responses'
    ] LOOP
        EXECUTE format('ALTER POLICY app_scope ON %I TO gcrm_app, gcrm_admin, gcrm_marketer', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['contacts', 'interactions', 'orders', 'campaign_members', 'campaign_responses'] LOOP
        EXECUTE format(
            'CREATE POLICY scoped ON %I FOR ALL TO gcrm_scoped'
            ' USING (account_id IN (SELECT a.account_id FROM accounts a))'
            ' WITH CHECK (account_id IN (SELECT a.account_id FROM accounts a))', t);
    END LOOP;
END
$$;
CREATE POLICY scoped ON accounts FOR ALL TO gcrm_scoped
    USING (territory_id = ANY ((SELECT gcrm_territories())::integer[]))
    WITH CHECK (territory_id = ANY ((SELECT gcrm_territories())::integer[]));
