-- Finding an account by what a user types (name, external id, city or ZIP, any case):
-- one trigram index over the four, lower-cased, so a search of a million accounts reads the
-- index instead of every row (geo.field.accounts.find_accounts uses this very expression).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX accounts_search_idx ON accounts USING gin (
    lower(name || ' ' || external_id || ' ' || coalesce(city, '') || ' ' || coalesce(postal_code, ''))
    gin_trgm_ops
);
