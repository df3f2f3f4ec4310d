-- Admins add users and reset passwords in the app.
--
-- The app role may not write app_users' password hashes (nor read them). These functions do
-- it for a signed-in admin, or for the owner (the `gcrm users` commands and the demo), and
-- write the audit entry in the same transaction. A reset password ends the user's sessions
-- and clears their failed sign-ins. A manager's region is checked by the caller: the demo's
-- manager is created before the starter plan that holds the region. Their refusals carry
-- SQLSTATE GU001 (or 42501 for a user who is not an admin).
CREATE FUNCTION gcrm_add_user(
    login text, user_role text, password text, rep_external_id text, territory text,
    address text, full_name text, cost integer
) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    rep integer;
BEGIN
    IF session_user <> current_user AND (SELECT gcrm_role()) IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'Only admins add users.' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM app_users u WHERE u.username = login) THEN
        RAISE EXCEPTION 'User % exists already.', quote_literal(login) USING ERRCODE = 'GU001';
    END IF;
    IF rep_external_id IS NOT NULL THEN
        SELECT r.rep_id INTO rep FROM reps r WHERE r.external_id = rep_external_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'No rep with external id %.', quote_literal(rep_external_id) USING ERRCODE = 'GU001';
        END IF;
    END IF;
    INSERT INTO app_users (username, display_name, email, role, rep_id, territory_code, password_hash)
    VALUES (login, full_name, address, user_role, rep, territory,
            CASE WHEN password IS NULL THEN NULL ELSE crypt(password, gen_salt('bf', cost)) END);
    INSERT INTO audit_log (actor, action, target, details)
    VALUES (current_setting('gcrm.user', true), 'user.add', login, jsonb_build_object('role', user_role));
END
$$;

CREATE FUNCTION gcrm_set_password(login text, password text, cost integer) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    found_user integer;
BEGIN
    IF session_user <> current_user AND (SELECT gcrm_role()) IS DISTINCT FROM 'admin' THEN
        RAISE EXCEPTION 'Only admins reset passwords.' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE app_users u SET password_hash = crypt(password, gen_salt('bf', cost))
    WHERE u.username = login RETURNING u.user_id INTO found_user;
    IF found_user IS NULL THEN
        RAISE EXCEPTION 'No user named %.', quote_literal(login) USING ERRCODE = 'GU001';
    END IF;
    DELETE FROM app_sessions s WHERE s.user_id = found_user;
    DELETE FROM sign_in_failures f WHERE f.login_name = login;
    INSERT INTO audit_log (actor, action, target, details)
    VALUES (current_setting('gcrm.user', true), 'user.password', login, '{}'::jsonb);
END
$$;

REVOKE ALL ON FUNCTION gcrm_add_user(text, text, text, text, text, text, text, integer),
    gcrm_set_password(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gcrm_add_user(text, text, text, text, text, text, text, integer),
    gcrm_set_password(text, text, integer) TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped;
