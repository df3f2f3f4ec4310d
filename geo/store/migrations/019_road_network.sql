-- The road network for drive times: a routing graph for pgRouting, imported from an
-- OpenStreetMap extract (gcrm roads import). One network at a time; re-importing replaces it.
--
-- pgRouting is enabled where the server has it (the set-up installs it for the embedded
-- server). A server without it still runs gcrm: every travel time is then an estimate and
-- says so, and `gcrm roads import` explains what to install.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting') THEN
        CREATE EXTENSION IF NOT EXISTS pgrouting;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pgRouting is available but this role may not enable it: ask a superuser to run CREATE EXTENSION pgrouting';
END
$$;

-- Road data is public (OpenStreetMap): every role reads it whole, with or without a user, and
-- only admins replace it. Its policies are the constant true, which the planner folds away:
-- a condition such as (SELECT gcrm_role()) IS NOT NULL would stay as a security barrier and
-- keep the spatial indexes from answering the box tests of pgRouting's edge queries
-- (PostGIS's operators are not leakproof).
CREATE TABLE road_vertices (
    id          bigint PRIMARY KEY,
    osm_node_id bigint NOT NULL,
    geom        geometry(Point, 4326) NOT NULL
);
CREATE INDEX road_vertices_geom_idx ON road_vertices USING gist (geom);

-- cost and reverse_cost are seconds of driving; a negative cost closes that direction.
CREATE TABLE road_edges (
    id           bigint PRIMARY KEY,
    source       bigint NOT NULL REFERENCES road_vertices (id),
    target       bigint NOT NULL REFERENCES road_vertices (id),
    cost         double precision NOT NULL CHECK (cost >= 0),
    reverse_cost double precision NOT NULL,
    length_m     double precision NOT NULL CHECK (length_m >= 0),
    speed_kmh    double precision NOT NULL CHECK (speed_kmh > 0),
    highway      text NOT NULL,
    osm_way_id   bigint NOT NULL,
    geom         geometry(LineString, 4326) NOT NULL
);
CREATE INDEX road_edges_geom_idx ON road_edges USING gist (geom);
CREATE INDEX road_edges_source_idx ON road_edges (source);

-- What is loaded: one row, or none before the first import.
CREATE TABLE road_network (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    source_name        text NOT NULL,
    imported_at        timestamptz NOT NULL DEFAULT now(),
    imported_by        text NOT NULL,
    edges              bigint NOT NULL,
    vertices           bigint NOT NULL,
    dropped_edges      bigint NOT NULL,
    dropped_components bigint NOT NULL,
    max_speed_kmh      double precision NOT NULL,
    speeds_kmh         jsonb NOT NULL,
    extent             geometry(Polygon, 4326) NOT NULL
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['road_vertices', 'road_edges', 'road_network'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY owner_all ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
        EXECUTE format('CREATE POLICY app_read ON %I FOR SELECT'
                       ' TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped USING (true)', t);
        EXECUTE format('CREATE POLICY admin_write ON %I FOR ALL TO gcrm_admin USING (true) WITH CHECK (true)', t);
        EXECUTE format('GRANT SELECT ON %I TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped', t);
        EXECUTE format('GRANT INSERT, UPDATE, DELETE, TRUNCATE ON %I TO gcrm_admin', t);
    END LOOP;
END
$$;

INSERT INTO data_versions (table_name) VALUES ('road_network');
CREATE TRIGGER road_network_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON road_network
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
