-- Territory planning: quotas and locks per territory, the unit level of a version, drawn shapes.
ALTER TABLE territories
    ADD COLUMN quota  numeric(14, 2) CHECK (quota >= 0),
    ADD COLUMN locked boolean NOT NULL DEFAULT false;

ALTER TABLE territory_versions
    ADD COLUMN unit_level text NOT NULL DEFAULT 'county'
        CHECK (unit_level IN ('county', 'zip', 'h3_5', 'h3_6', 'h3_7', 'h3_8', 'h3_9'));

CREATE TABLE territory_shapes (
    version_id   integer NOT NULL REFERENCES territory_versions ON DELETE CASCADE,
    territory_id integer NOT NULL REFERENCES territories,
    geom         geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (version_id, territory_id)
);
CREATE INDEX territory_shapes_geom_idx ON territory_shapes USING gist (geom);
CREATE INDEX territory_units_territory_idx ON territory_units (version_id, territory_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON territory_shapes TO gcrm_app;
