-- The identity hashes call each other by their schema-qualified names, so a backup restores.
--
-- accounts.name_postal_hash is a generated column over gcrm_name_postal_hash, whose body
-- called gcrm_identifier_hash unqualified. pg_restore runs with an empty search_path, so
-- the call did not resolve and every account row of a restored backup was refused: the
-- restore ended with no accounts (and no contacts or visits that point at them). The
-- bodies are the same as in 011 except for the `public.` prefix; qualifying the calls costs
-- nothing per row, where a `SET search_path` clause would add a setting change to every call.

CREATE OR REPLACE FUNCTION gcrm_name_postal_hash(name text, postal_code text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    words  text := btrim(regexp_replace(lower(name), '[[:space:][:punct:]]+', ' ', 'g'));
    postal text := regexp_replace(regexp_replace(lower(btrim(postal_code)), '\.0$', ''), '[^a-z0-9]+', '', 'g');
BEGIN
    IF postal ~ '^[0-9]{3,5}$' THEN
        postal := lpad(postal, 5, '0');
    ELSIF postal ~ '^[0-9]{9}$' THEN
        postal := left(postal, 5);
    END IF;
    IF words = '' OR postal = '' THEN
        RETURN NULL;
    END IF;
    RETURN public.gcrm_identifier_hash('name+postal:' || words || '|' || postal);
END
$$;

CREATE OR REPLACE FUNCTION gcrm_email_hash(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN public.gcrm_identifier_hash(nullif(regexp_replace(email, '[[:space:]]+', '', 'g'), ''));
END
$$;

CREATE OR REPLACE FUNCTION gcrm_phone_hash(phone text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    digits text := regexp_replace(regexp_replace(phone, '[^0-9]+', '', 'g'), '^1([0-9]{10})$', '\1');
BEGIN
    RETURN CASE WHEN length(digits) >= 7 THEN public.gcrm_identifier_hash('phone:' || digits) END;
END
$$;

CREATE OR REPLACE FUNCTION gcrm_contact_hashes(
    external_id text, email text, phone text, first_name text, last_name text, postal_code text
) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[
        public.gcrm_identifier_hash(external_id),
        public.gcrm_email_hash(email),
        public.gcrm_phone_hash(phone),
        public.gcrm_name_postal_hash(nullif(concat_ws(' ', first_name, last_name), ''), postal_code)
    ]
$$;
