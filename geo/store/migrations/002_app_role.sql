-- The app's login role: owns nothing, cannot bypass row-level security.
-- Its password is set by gcrm at start-up (see geo.db.set_app_password).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gcrm_app') THEN
        CREATE ROLE gcrm_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS;
    END IF;
END
$$;
ALTER ROLE gcrm_app SET statement_timeout = '60s';

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gcrm_app;
GRANT SELECT ON regions, spatial_ref_sys, geometry_columns, geography_columns TO gcrm_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    reps, territories, territory_versions, territory_units, accounts, contacts, interactions,
    orders, branches, trade_areas, campaigns, campaign_members, campaign_responses,
    geocode_cache, import_batches, import_rejects, suppression_list
TO gcrm_app;
GRANT SELECT, INSERT ON audit_log TO gcrm_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO gcrm_app;
