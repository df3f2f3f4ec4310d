-- gcrm data model. Geometry is EPSG:4326; distances are measured on geography.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE reps (
    rep_id       serial PRIMARY KEY,
    external_id  text NOT NULL UNIQUE,
    name         text NOT NULL,
    email        text,
    home_geom    geometry(Point, 4326),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE regions (
    level        text NOT NULL CHECK (level IN ('state', 'county', 'zip')),
    code         text NOT NULL,
    name         text NOT NULL,
    abbrev       text,
    parent_level text,
    parent_code  text,
    population   bigint,
    potential    double precision,
    geom         geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (level, code),
    FOREIGN KEY (parent_level, parent_code) REFERENCES regions (level, code),
    CHECK (ST_IsValid(geom))
);
CREATE INDEX regions_geom_idx ON regions USING gist (geom);
CREATE INDEX regions_parent_idx ON regions (parent_level, parent_code);

CREATE TABLE territories (
    territory_id serial PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    name         text NOT NULL,
    kind         text NOT NULL DEFAULT 'territory' CHECK (kind IN ('region', 'district', 'territory')),
    parent_id    integer REFERENCES territories,
    rep_id       integer REFERENCES reps,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE territory_versions (
    version_id   serial PRIMARY KEY,
    name         text NOT NULL,
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE UNIQUE INDEX territory_versions_one_active ON territory_versions (status) WHERE status = 'active';

CREATE TABLE territory_units (
    version_id   integer NOT NULL REFERENCES territory_versions ON DELETE CASCADE,
    unit_level   text NOT NULL,
    unit_code    text NOT NULL,
    territory_id integer NOT NULL REFERENCES territories,
    locked       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (version_id, unit_level, unit_code)
);

CREATE TABLE accounts (
    account_id        bigserial PRIMARY KEY,
    external_id       text NOT NULL UNIQUE,
    name              text NOT NULL,
    industry          text,
    segment           text,
    status            text NOT NULL DEFAULT 'prospect' CHECK (status IN ('prospect', 'customer', 'churned')),
    annual_revenue    numeric(14, 2),
    street            text,
    city              text,
    state             text,
    postal_code       text,
    country           text NOT NULL DEFAULT 'US',
    geom              geometry(Point, 4326),
    geocode_precision text NOT NULL DEFAULT 'none' CHECK (geocode_precision IN
                          ('given', 'rooftop', 'street', 'postal', 'city', 'region', 'manual', 'none')),
    geocode_source    text,
    geocode_note      text,
    state_fips        char(2),
    county_fips       char(5),
    zip               char(5),
    h3_r5             text,
    h3_r7             text,
    h3_r9             text,
    territory_id      integer REFERENCES territories,
    territory_override boolean NOT NULL DEFAULT false,
    owner_rep_id      integer REFERENCES reps,
    marketing_consent boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_geom_idx ON accounts USING gist (geom);
CREATE INDEX accounts_state_idx ON accounts (state_fips);
CREATE INDEX accounts_county_idx ON accounts (county_fips);
CREATE INDEX accounts_zip_idx ON accounts (zip);
CREATE INDEX accounts_territory_idx ON accounts (territory_id);
CREATE INDEX accounts_owner_idx ON accounts (owner_rep_id);

CREATE TABLE contacts (
    contact_id        bigserial PRIMARY KEY,
    external_id       text UNIQUE,
    account_id        bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    first_name        text,
    last_name         text,
    title             text,
    email             text,
    phone             text,
    marketing_consent boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_account_idx ON contacts (account_id);

CREATE TABLE interactions (
    interaction_id bigserial PRIMARY KEY,
    external_id    text UNIQUE,
    account_id     bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    contact_id     bigint REFERENCES contacts ON DELETE SET NULL,
    rep_id         integer REFERENCES reps,
    kind           text NOT NULL CHECK (kind IN ('visit', 'call', 'email', 'meeting')),
    occurred_at    timestamptz NOT NULL,
    duration_min   integer CHECK (duration_min >= 0),
    outcome        text,
    notes          text,
    checkin_geom   geometry(Point, 4326),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_account_idx ON interactions (account_id, occurred_at DESC);

CREATE TABLE orders (
    order_id     bigserial PRIMARY KEY,
    external_id  text NOT NULL UNIQUE,
    account_id   bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    rep_id       integer REFERENCES reps,
    order_date   date NOT NULL,
    amount       numeric(14, 2) NOT NULL CHECK (amount >= 0),
    stage        text NOT NULL DEFAULT 'won' CHECK (stage IN ('open', 'won', 'lost')),
    product      text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_account_idx ON orders (account_id, order_date);
CREATE INDEX orders_date_idx ON orders (order_date);

CREATE TABLE branches (
    branch_id    serial PRIMARY KEY,
    external_id  text NOT NULL UNIQUE,
    name         text NOT NULL,
    kind         text NOT NULL DEFAULT 'office' CHECK (kind IN ('office', 'store', 'warehouse')),
    street       text,
    city         text,
    state        text,
    postal_code  text,
    geom         geometry(Point, 4326) NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX branches_geom_idx ON branches USING gist (geom);

CREATE TABLE trade_areas (
    trade_area_id serial PRIMARY KEY,
    branch_id     integer NOT NULL REFERENCES branches ON DELETE CASCADE,
    method        text NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}',
    geom          geometry(MultiPolygon, 4326) NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trade_areas_geom_idx ON trade_areas USING gist (geom);

CREATE TABLE campaigns (
    campaign_id  serial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    geom         geometry(MultiPolygon, 4326),
    filters      jsonb NOT NULL DEFAULT '{}',
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaign_members (
    campaign_id  integer NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    account_id   bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    snapshot_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, account_id)
);

CREATE TABLE campaign_responses (
    response_id  bigserial PRIMARY KEY,
    campaign_id  integer NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    account_id   bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('response', 'conversion')),
    revenue      numeric(14, 2),
    responded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE geocode_cache (
    query_key    text NOT NULL,
    provider     text NOT NULL,
    lon          double precision,
    lat          double precision,
    precision    text NOT NULL,
    raw          jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, query_key)
);

CREATE TABLE import_batches (
    batch_id     bigserial PRIMARY KEY,
    kind         text NOT NULL,
    filename     text,
    created_by   text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    read         integer NOT NULL DEFAULT 0,
    inserted     integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    rejected     integer NOT NULL DEFAULT 0
);

CREATE TABLE import_rejects (
    reject_id    bigserial PRIMARY KEY,
    batch_id     bigint NOT NULL REFERENCES import_batches ON DELETE CASCADE,
    line         integer NOT NULL,
    reason       text NOT NULL,
    raw          jsonb
);

CREATE TABLE audit_log (
    audit_id     bigserial PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    target       text,
    details      jsonb
);

CREATE TABLE suppression_list (
    identifier_hash text PRIMARY KEY,
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
