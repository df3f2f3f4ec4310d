-- Facts about the market of each region: residents, households, housing, jobs, businesses.
--
-- One row per region and fact (geo.places.facts.FACTS names them and says how each rolls
-- up): the shipped county table loads at set-up, an administrator may load a newer or
-- another table (gcrm regions facts import), and state rows are computed from their
-- counties in the same transaction as any county write. Every signed-in user reads them;
-- only admins change them.
CREATE TABLE region_facts (
    level   text NOT NULL,
    code    text NOT NULL,
    fact    text NOT NULL,
    value   double precision NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    vintage text,
    source  text NOT NULL,
    PRIMARY KEY (level, code, fact),
    FOREIGN KEY (level, code) REFERENCES regions (level, code) ON DELETE CASCADE
);
CREATE INDEX region_facts_fact_idx ON region_facts (fact, level);

ALTER TABLE region_facts ENABLE ROW LEVEL SECURITY;
ALTER TABLE region_facts FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON region_facts TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON region_facts TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped;
CREATE POLICY app_read ON region_facts FOR SELECT TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped
    USING ((SELECT gcrm_role()) IS NOT NULL);
CREATE POLICY app_write ON region_facts FOR ALL TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped
    USING ((SELECT gcrm_role()) = 'admin') WITH CHECK ((SELECT gcrm_role()) = 'admin');

INSERT INTO data_versions (table_name) VALUES ('region_facts');
CREATE TRIGGER region_facts_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON region_facts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

-- What each fact means and how a state's value follows from its counties: counts add up;
-- means are weighted by the fact that counts what they are the mean of (where that fact
-- ships); medians, and rates whose base does not ship, are county-level only.
CREATE TABLE fact_catalogue (
    fact   text PRIMARY KEY,
    label  text NOT NULL,
    kind   text NOT NULL CHECK (kind IN ('count', 'mean', 'county')),
    weight text REFERENCES fact_catalogue (fact),
    CHECK ((kind = 'mean') = (weight IS NOT NULL))
);
INSERT INTO fact_catalogue (fact, label, kind, weight) VALUES
    ('population', 'Population', 'count', NULL),
    ('households', 'Households', 'count', NULL),
    ('housing_units', 'Housing units', 'count', NULL),
    ('land_area_sq_mi', 'Land area (sq mi)', 'count', NULL),
    ('jobs', 'Jobs located here (daytime workers)', 'count', NULL),
    ('establishments', 'Business establishments', 'count', NULL),
    ('firms', 'Firms', 'count', NULL),
    ('retail_sales_k_usd', 'Retail sales (thousand $)', 'count', NULL),
    ('persons_per_household', 'Persons per household', 'mean', 'households'),
    ('per_capita_income', 'Income per person ($)', 'mean', 'population'),
    ('pct_age_65_plus', 'Aged 65 and over (%)', 'mean', 'population'),
    ('pct_housing_multi_unit', 'Housing in multi-unit buildings (%)', 'mean', 'housing_units'),
    ('persons_per_sq_mi', 'People per sq mi', 'mean', 'land_area_sq_mi'),
    ('pct_owner_occupied', 'Owner-occupied homes (%)', 'county', NULL),
    ('mean_commute_minutes', 'Mean commute (minutes)', 'county', NULL),
    ('pct_unemployed', 'Unemployed (%)', 'county', NULL),
    ('pct_bachelors', 'With a bachelor''s degree (%)', 'county', NULL),
    ('median_household_income', 'Median household income ($)', 'county', NULL),
    ('median_age', 'Median age', 'county', NULL),
    ('median_home_value', 'Median home value ($)', 'county', NULL),
    ('metro', 'In a metropolitan area (1 = yes)', 'county', NULL);
ALTER TABLE region_facts ADD FOREIGN KEY (fact) REFERENCES fact_catalogue (fact);

ALTER TABLE fact_catalogue ENABLE ROW LEVEL SECURITY;
ALTER TABLE fact_catalogue FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_all ON fact_catalogue TO CURRENT_USER USING (true) WITH CHECK (true);
GRANT SELECT ON fact_catalogue TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped;
CREATE POLICY app_read ON fact_catalogue FOR SELECT TO gcrm_app, gcrm_admin, gcrm_marketer, gcrm_scoped
    USING (true);
