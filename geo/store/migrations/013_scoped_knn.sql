-- A territory-scoped user's nearest accounts come from an index that starts with the territory.
--
-- Under the scoped policy (territory_id = ANY (gcrm_territories())) a KNN scan of
-- accounts_geom_idx walks every territory's accounts nearest first and discards the others':
-- a rep's nearest 25 took 20x an admin's. This GiST index over (territory_id, geom) serves
-- `territory_id = t ORDER BY geom <-> p` for one territory at a time (btree_gist gives the
-- integer column its GiST operators). GiST cannot take `= ANY (array)` as an index condition
-- of an ordered scan, so geo.nearby searches each of the user's territories in turn
-- (unnest(gcrm_territories()) with a LATERAL KNN) and merges; the policy still applies.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE INDEX accounts_territory_geom_idx ON accounts USING gist (territory_id, geom);
