-- Users, roles and row-level security.
--
-- The app connects as gcrm_app (owns nothing, NOBYPASSRLS) and names the real user of each
-- transaction with set_config('gcrm.user', …, true). Policies read that user's role and
-- territories through the SECURITY DEFINER functions below and compare stored keys only
-- (territory_id, account_id), never geometry. Every table forces row-level security; the
-- owner that runs migrations, bulk loads and erasure has an explicit policy of its own.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE app_users (
    user_id        serial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username <> ''),
    display_name   text,
    email          text UNIQUE,
    role           text NOT NULL CHECK (role IN ('admin', 'manager', 'marketer', 'rep')),
    rep_id         integer REFERENCES reps,
    territory_code text,
    password_hash  text,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    CHECK (role <> 'rep' OR rep_id IS NOT NULL),
    CHECK (role <> 'manager' OR territory_code IS NOT NULL)
);

CREATE FUNCTION gcrm_identifier_hash(identifier text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(lower(btrim(identifier)), 'UTF8')), 'hex')
$$;

CREATE FUNCTION gcrm_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT role FROM app_users
    WHERE username = current_setting('gcrm.user', true) AND NOT disabled
$$;

CREATE FUNCTION gcrm_sees_all() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(gcrm_role() IN ('admin', 'marketer'), false)
$$;

CREATE FUNCTION gcrm_territories() RETURNS integer[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH RECURSIVE me AS (
        SELECT role, rep_id, territory_code FROM app_users
        WHERE username = current_setting('gcrm.user', true) AND NOT disabled
    ), scope AS (
        SELECT t.territory_id FROM territories t, me
        WHERE (me.role = 'rep' AND t.rep_id = me.rep_id)
           OR (me.role = 'manager' AND t.code = me.territory_code)
        UNION
        SELECT c.territory_id FROM territories c JOIN scope s ON c.parent_id = s.territory_id
    )
    SELECT coalesce(array_agg(territory_id ORDER BY territory_id), '{}') FROM scope
$$;

CREATE FUNCTION gcrm_authenticate(login text, password text)
RETURNS TABLE (username text, role text, display_name text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    found app_users;
BEGIN
    SELECT * INTO found FROM app_users u WHERE u.username = login;
    IF found.user_id IS NULL OR found.password_hash IS NULL
       OR crypt(password, found.password_hash) <> found.password_hash THEN
        INSERT INTO audit_log (actor, action, target, details)
        VALUES (login, 'login.failed', login, jsonb_build_object('reason', 'wrong user name or password'));
        RETURN;
    END IF;
    IF found.disabled THEN
        INSERT INTO audit_log (actor, action, target, details)
        VALUES (login, 'login.failed', login, jsonb_build_object('reason', 'user disabled'));
        RETURN;
    END IF;
    UPDATE app_users u SET last_login_at = now() WHERE u.user_id = found.user_id;
    INSERT INTO audit_log (actor, action, target, details)
    VALUES (found.username, 'login', found.username, jsonb_build_object('method', 'password'));
    RETURN QUERY SELECT found.username, found.role, found.display_name;
END
$$;

CREATE FUNCTION gcrm_sign_in_by_email(address text)
RETURNS TABLE (username text, role text, display_name text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    found app_users;
BEGIN
    SELECT * INTO found FROM app_users u WHERE lower(u.email) = lower(address) AND NOT u.disabled;
    IF found.user_id IS NULL THEN
        INSERT INTO audit_log (actor, action, target, details)
        VALUES (address, 'login.failed', address, jsonb_build_object('reason', 'no enabled user with this e-mail'));
        RETURN;
    END IF;
    UPDATE app_users u SET last_login_at = now() WHERE u.user_id = found.user_id;
    INSERT INTO audit_log (actor, action, target, details)
    VALUES (found.username, 'login', found.username, jsonb_build_object('method', 'oidc'));
    RETURN QUERY SELECT found.username, found.role, found.display_name;
END
$$;

REVOKE ALL ON FUNCTION gcrm_role(), gcrm_sees_all(), gcrm_territories(),
    gcrm_authenticate(text, text), gcrm_sign_in_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gcrm_role(), gcrm_sees_all(), gcrm_territories(),
    gcrm_authenticate(text, text), gcrm_sign_in_by_email(text), gcrm_identifier_hash(text) TO gcrm_app;

GRANT SELECT (user_id, username, display_name, email, role, rep_id, territory_code, disabled,
              created_at, last_login_at) ON app_users TO gcrm_app;
GRANT UPDATE (display_name, email, role, rep_id, territory_code, disabled) ON app_users TO gcrm_app;

-- Contact details a marketer may see: only people who consented and did not object.
CREATE VIEW contactable_contacts WITH (security_invoker = true) AS
SELECT c.contact_id, c.account_id, c.first_name, c.last_name, c.title, c.email, c.phone
FROM contacts c
WHERE c.marketing_consent
  AND NOT EXISTS (
      SELECT 1 FROM suppression_list s
      WHERE s.identifier_hash IN (gcrm_identifier_hash(c.email), gcrm_identifier_hash(c.external_id))
  );
GRANT SELECT ON contactable_contacts TO gcrm_app;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'reps', 'regions', 'territories', 'territory_versions', 'territory_units', 'territory_shapes',
        'accounts', 'contacts', 'interactions', 'orders', 'branches', 'trade_areas', 'campaigns',
        'campaign_members', 'campaign_responses', 'geocode_cache', 'import_batches', 'import_rejects',
        'audit_log', 'suppression_list', 'app_users', 'data_versions', 'schema_migrations'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
    END LOOP;
END
$$;

-- Shared reference data: every signed-in user reads it; admins and managers change it.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'reps', 'territories', 'territory_versions', 'territory_units', 'territory_shapes',
        'branches', 'trade_areas'
    ] LOOP
        EXECUTE format(
            'CREATE POLICY app_read ON %I FOR SELECT TO gcrm_app USING ((SELECT gcrm_role()) IS NOT NULL)', t);
        EXECUTE format(
            'CREATE POLICY app_write ON %I FOR ALL TO gcrm_app'
            ' USING ((SELECT gcrm_role()) IN (''admin'', ''manager''))'
            ' WITH CHECK ((SELECT gcrm_role()) IN (''admin'', ''manager''))', t);
    END LOOP;
END
$$;

CREATE POLICY app_read ON regions FOR SELECT TO gcrm_app USING (true);
CREATE POLICY app_read ON data_versions FOR SELECT TO gcrm_app USING (true);

-- The book: reps their territories, managers their region, marketers and admins everything.
CREATE POLICY app_scope ON accounts FOR ALL TO gcrm_app
    USING ((SELECT gcrm_sees_all()) OR territory_id = ANY ((SELECT gcrm_territories())::integer[]))
    WITH CHECK ((SELECT gcrm_sees_all()) OR territory_id = ANY ((SELECT gcrm_territories())::integer[]));

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['interactions', 'orders', 'campaign_members', 'campaign_responses'] LOOP
        EXECUTE format(
            'CREATE POLICY app_scope ON %I FOR ALL TO gcrm_app'
            ' USING ((SELECT gcrm_sees_all()) OR account_id IN (SELECT a.account_id FROM accounts a))'
            ' WITH CHECK ((SELECT gcrm_sees_all()) OR account_id IN (SELECT a.account_id FROM accounts a))', t);
    END LOOP;
END
$$;

CREATE POLICY app_scope ON contacts FOR ALL TO gcrm_app
    USING (
        ((SELECT gcrm_sees_all()) OR account_id IN (SELECT a.account_id FROM accounts a))
        AND ((SELECT gcrm_role()) IS DISTINCT FROM 'marketer' OR marketing_consent)
    )
    WITH CHECK ((SELECT gcrm_sees_all()) OR account_id IN (SELECT a.account_id FROM accounts a));

CREATE POLICY app_campaigns ON campaigns FOR ALL TO gcrm_app
    USING ((SELECT gcrm_role()) IN ('admin', 'manager', 'marketer'))
    WITH CHECK ((SELECT gcrm_role()) IN ('admin', 'manager', 'marketer'));

CREATE POLICY app_signed_in ON geocode_cache FOR ALL TO gcrm_app
    USING ((SELECT gcrm_role()) IS NOT NULL) WITH CHECK ((SELECT gcrm_role()) IS NOT NULL);

CREATE POLICY app_admin ON import_batches FOR ALL TO gcrm_app
    USING ((SELECT gcrm_role()) = 'admin') WITH CHECK ((SELECT gcrm_role()) = 'admin');
CREATE POLICY app_admin ON import_rejects FOR ALL TO gcrm_app
    USING ((SELECT gcrm_role()) = 'admin') WITH CHECK ((SELECT gcrm_role()) = 'admin');

-- The audit log: anyone signed in appends as themselves; only admins read it; nobody rewrites it.
CREATE POLICY app_append ON audit_log FOR INSERT TO gcrm_app
    WITH CHECK ((SELECT gcrm_role()) IS NOT NULL AND actor = current_setting('gcrm.user', true));
CREATE POLICY app_read ON audit_log FOR SELECT TO gcrm_app USING ((SELECT gcrm_role()) = 'admin');
REVOKE UPDATE, DELETE ON audit_log FROM gcrm_app;

-- Suppression hashes: checked by every audience and import; added by admins and marketers.
CREATE POLICY app_read ON suppression_list FOR SELECT TO gcrm_app USING ((SELECT gcrm_role()) IS NOT NULL);
CREATE POLICY app_add ON suppression_list FOR INSERT TO gcrm_app
    WITH CHECK ((SELECT gcrm_role()) IN ('admin', 'marketer'));
REVOKE UPDATE, DELETE ON suppression_list FROM gcrm_app;

CREATE POLICY app_read ON app_users FOR SELECT TO gcrm_app
    USING (username = current_setting('gcrm.user', true) OR (SELECT gcrm_role()) = 'admin');
CREATE POLICY app_admin ON app_users FOR UPDATE TO gcrm_app
    USING ((SELECT gcrm_role()) = 'admin') WITH CHECK ((SELECT gcrm_role()) = 'admin');

-- gcrm itself (migrations, demo data, cache warm-up): an admin that cannot sign in.
INSERT INTO app_users (username, display_name, role) VALUES ('system', 'gcrm itself', 'admin');
