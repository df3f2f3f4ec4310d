-- Territory plans are made on the whole book, so only those who see the whole book change them.
--
-- A manager sees the accounts of one region: an alignment or a publication from that view
-- would balance and reassign the rest of the book unseen. Territories, plan versions, their
-- units and drawn shapes are therefore written by admins only (gcrm_may_plan); everybody
-- signed in still reads them. The policies keep other users' writes from touching a row, and
-- a statement trigger refuses them aloud (an UPDATE that a policy filters would otherwise
-- succeed on no rows). The owner (migrations, demo data) is not one of the app roles and
-- keeps its own policy.
CREATE FUNCTION gcrm_may_plan() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce(gcrm_role() = 'admin', false)
$$;
REVOKE ALL ON FUNCTION gcrm_may_plan() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gcrm_may_plan() TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped;

CREATE FUNCTION gcrm_refuse_partial_planning() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF current_user IN ('gcrm_app', 'gcrm_admin', 'gcrm_marketer', 'gcrm_scoped') AND NOT gcrm_may_plan() THEN
        RAISE EXCEPTION 'Only an admin may change territory plans (% on %): plans are made on the whole book.',
            lower(TG_OP), TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION gcrm_refuse_partial_planning() FROM PUBLIC;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['territories', 'territory_versions', 'territory_units', 'territory_shapes'] LOOP
        EXECUTE format(
            'ALTER POLICY app_write ON %I USING ((SELECT gcrm_may_plan())) WITH CHECK ((SELECT gcrm_may_plan()))', t);
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION gcrm_refuse_partial_planning()', t || '_planners_only', t);
    END LOOP;
END
$$;
