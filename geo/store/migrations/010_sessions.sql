-- Sign-in sessions that outlive a browser tab, and sign-in throttling.
--
-- A sign-in (gcrm_authenticate, gcrm_sign_in_by_email) opens a session and returns a one-time
-- hand-off code valid for a minute. The browser posts that code to the ASGI layer (serve.py),
-- which exchanges it (gcrm_session_claim) for the session's token and sets the token as an
-- HttpOnly cookie; a new tab finds its session from that cookie (gcrm_session_resume), and
-- every run of the app checks that its session is still alive (gcrm_session_touch). Codes and
-- tokens are 32 random bytes of which only the sha256 is stored. A session ends at its idle
-- timeout, at its absolute expiry, when its user signs out (every session of that user,
-- gcrm_end_sessions) and when its user is disabled (trigger).
--
-- After max_failures failed sign-ins for one user name within lock_time of each other, that
-- name is locked for lock_time: attempts are refused, even with the right password, and
-- audited as login.throttled (the time left is told from the clock, not from the start of a
-- transaction that waited for another attempt at the same name). The app role reads neither
-- table; it goes through the SECURITY DEFINER functions below, so every app server shares the
-- same sessions and counts.

CREATE FUNCTION gcrm_token_hash(token text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(token, 'UTF8')), 'hex')
$$;

CREATE TABLE app_sessions (
    session_id         bigserial PRIMARY KEY,
    user_id            integer NOT NULL REFERENCES app_users ON DELETE CASCADE,
    token_hash         text UNIQUE,
    handoff_hash       text UNIQUE,
    handoff_expires_at timestamptz,
    idle_timeout       interval NOT NULL CHECK (idle_timeout > interval '0'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL
);
CREATE INDEX app_sessions_user ON app_sessions (user_id);

-- Per user name as typed, known or not (a lock tells nothing about which names exist).
CREATE TABLE sign_in_failures (
    login_name     text PRIMARY KEY,
    failures       integer NOT NULL DEFAULT 0,
    last_failed_at timestamptz,
    locked_until   timestamptz
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failed_at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['app_sessions', 'sign_in_failures'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY owner_all ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
    END LOOP;
END
$$;

-- A new session of a user who just proved who they are; only the sign-in functions call it.
CREATE FUNCTION gcrm_open_session(uid integer, idle interval, lifetime interval,
                                  OUT new_session_id bigint, OUT new_handoff text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF idle <= interval '0' OR lifetime <= interval '0' THEN
        RAISE EXCEPTION 'session timeouts must be positive (idle %, lifetime %)', idle, lifetime;
    END IF;
    DELETE FROM app_sessions s WHERE s.expires_at <= now() OR s.last_seen_at + s.idle_timeout <= now();
    new_handoff := encode(gen_random_bytes(32), 'hex');
    INSERT INTO app_sessions (user_id, handoff_hash, handoff_expires_at, idle_timeout, expires_at)
    VALUES (uid, gcrm_token_hash(new_handoff), now() + interval '1 minute', idle, now() + lifetime)
    RETURNING app_sessions.session_id INTO new_session_id;
END
$$;
REVOKE ALL ON FUNCTION gcrm_open_session(integer, interval, interval) FROM PUBLIC;

DROP FUNCTION gcrm_authenticate(text, text);
CREATE FUNCTION gcrm_authenticate(login text, password text, idle interval, lifetime interval)
RETURNS TABLE (username text, role text, display_name text, session_id bigint, handoff text,
               retry_after interval)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    max_failures CONSTANT integer := 5;
    lock_time CONSTANT interval := interval '15 minutes';
    found app_users;
    tries sign_in_failures;
    failed integer;
    reason text;
    opened record;
BEGIN
    -- Lock this name's row: attempts for one name are answered one at a time, on every server.
    INSERT INTO sign_in_failures AS f (login_name) VALUES (login)
    ON CONFLICT ON CONSTRAINT sign_in_failures_pkey DO UPDATE SET failures = f.failures
    RETURNING f.* INTO tries;
    IF tries.locked_until > now() THEN
        INSERT INTO audit_log (actor, action, target, details)
        VALUES (login, 'login.throttled', login, jsonb_build_object('locked_until', tries.locked_until));
        RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
                            tries.locked_until - clock_timestamp();
        RETURN;
    END IF;
    SELECT * INTO found FROM app_users u WHERE u.username = login;
    IF found.user_id IS NULL OR found.password_hash IS NULL
       OR crypt(password, found.password_hash) <> found.password_hash THEN
        reason := 'wrong user name or password';
    ELSIF found.disabled THEN
        reason := 'user disabled';
    END IF;
    IF reason IS NOT NULL THEN
        failed := CASE WHEN tries.last_failed_at > now() - lock_time THEN tries.failures + 1 ELSE 1 END;
        UPDATE sign_in_failures f
        SET failures = CASE WHEN failed >= max_failures THEN 0 ELSE failed END,
            last_failed_at = now(),
            locked_until = CASE WHEN failed >= max_failures THEN now() + lock_time END
        WHERE f.login_name = login
        RETURNING f.* INTO tries;
        INSERT INTO audit_log (actor, action, target, details)
        VALUES (login, 'login.failed', login,
                jsonb_strip_nulls(jsonb_build_object('reason', reason, 'failures', failed,
                                                     'locked_until', tries.locked_until)));
        DELETE FROM sign_in_failures f WHERE f.last_failed_at < now() - interval '1 day';
        RETURN QUERY SELECT NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
                            tries.locked_until - clock_timestamp();
        RETURN;
    END IF;
    DELETE FROM sign_in_failures f WHERE f.login_name = login;
    UPDATE app_users u SET last_login_at = now() WHERE u.user_id = found.user_id;
    INSERT INTO audit_log (actor, action, target, details)
    VALUES (found.username, 'login', found.username, jsonb_build_object('method', 'password'));
    SELECT * INTO opened FROM gcrm_open_session(found.user_id, idle, lifetime);
    RETURN QUERY SELECT found.username, found.role, found.display_name, opened.new_session_id,
                        opened.new_handoff, NULL::interval;
END
$$;

DROP FUNCTION gcrm_sign_in_by_email(text);
CREATE FUNCTION gcrm_sign_in_by_email(address text, idle interval, lifetime interval)
RETURNS TABLE (username text, role text, display_name text, session_id bigint, handoff text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    found app_users;
    opened record;
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
    SELECT * INTO opened FROM gcrm_open_session(found.user_id, idle, lifetime);
    RETURN QUERY SELECT found.username, found.role, found.display_name, opened.new_session_id,
                        opened.new_handoff;
END
$$;

-- The hand-off code of a session, once and within its minute, for the session's token.
CREATE FUNCTION gcrm_session_claim(code text)
RETURNS TABLE (token text, max_age integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    new_token text := encode(gen_random_bytes(32), 'hex');
BEGIN
    RETURN QUERY
    UPDATE app_sessions s
    SET token_hash = gcrm_token_hash(new_token), handoff_hash = NULL, handoff_expires_at = NULL
    WHERE s.handoff_hash = gcrm_token_hash(code) AND s.handoff_expires_at > now()
      AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
    RETURNING new_token, ceil(extract(epoch FROM s.expires_at - now()))::integer;
END
$$;

-- The live session a cookie's token names, and its user (who must still be enabled).
CREATE FUNCTION gcrm_session_resume(token text)
RETURNS TABLE (session_id bigint, username text, role text, display_name text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE app_sessions s SET last_seen_at = now()
    FROM app_users u
    WHERE s.token_hash = gcrm_token_hash(token) AND u.user_id = s.user_id AND NOT u.disabled
      AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
    RETURNING s.session_id, u.username, u.role, u.display_name
$$;

-- Whether a session of the transaction's user is alive; marks it seen (at most once a minute).
CREATE FUNCTION gcrm_session_touch(sid bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    seen timestamptz;
BEGIN
    SELECT s.last_seen_at INTO seen
    FROM app_sessions s JOIN app_users u ON u.user_id = s.user_id
    WHERE s.session_id = sid AND u.username = current_setting('gcrm.user', true) AND NOT u.disabled
      AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now();
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF seen < now() - interval '1 minute' THEN
        UPDATE app_sessions s SET last_seen_at = now() WHERE s.session_id = sid;
    END IF;
    RETURN true;
END
$$;

-- Sign-out: every session of the transaction's user ends, in every browser and tab.
CREATE FUNCTION gcrm_end_sessions() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ended integer;
    me text := current_setting('gcrm.user', true);
BEGIN
    DELETE FROM app_sessions s USING app_users u WHERE u.user_id = s.user_id AND u.username = me;
    GET DIAGNOSTICS ended = ROW_COUNT;
    INSERT INTO audit_log (actor, action, target, details)
    VALUES (me, 'logout', me, jsonb_build_object('sessions', ended));
    RETURN ended;
END
$$;

-- Disabling a user ends their sessions, whoever disables them (app admin or `gcrm users disable`).
CREATE FUNCTION gcrm_end_sessions_of_disabled() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM app_sessions s WHERE s.user_id = NEW.user_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER app_users_disabled_ends_sessions AFTER UPDATE OF disabled ON app_users
    FOR EACH ROW WHEN (NEW.disabled AND NOT OLD.disabled) EXECUTE FUNCTION gcrm_end_sessions_of_disabled();

REVOKE ALL ON FUNCTION gcrm_authenticate(text, text, interval, interval),
    gcrm_sign_in_by_email(text, interval, interval), gcrm_session_claim(text), gcrm_session_resume(text),
    gcrm_session_touch(bigint), gcrm_end_sessions(), gcrm_end_sessions_of_disabled() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gcrm_authenticate(text, text, interval, interval),
    gcrm_sign_in_by_email(text, interval, interval), gcrm_session_claim(text), gcrm_session_resume(text),
    gcrm_session_touch(bigint), gcrm_end_sessions()
    TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped;
