-- Searches of the directory rank a bounded window of matches, the newest
-- listings first, so that a common word costs the same as a rare one.
-- The filters (sector, size, capabilities, regions) are written as facet
-- tokens (sector:nhs, cap:finance, ...) into search_facets, indexed by a
-- second FTS5 table, so that a filtered search finds its window by
-- merging posting lists instead of testing every match. The facets have a
-- table of their own so that they change no score of listing_fts.

-- +goose Up
ALTER TABLE listings ADD COLUMN search_facets TEXT NOT NULL DEFAULT '';
UPDATE listings SET search_facets = trim(
    (SELECT CASE WHEN o.sector <> '' THEN 'sector:' || o.sector ELSE '' END FROM organisations o WHERE o.id = listings.org_id) ||
    CASE WHEN size <> '' THEN ' size:' || size ELSE '' END ||
    COALESCE((SELECT group_concat(' cap:' || c.capability, '') FROM listing_capabilities c WHERE c.org_id = listings.org_id), '') ||
    COALESCE((SELECT group_concat(' region:' || r.region, '') FROM listing_regions r WHERE r.org_id = listings.org_id), ''));

CREATE VIRTUAL TABLE listing_facets USING fts5 (
    search_facets,
    content = 'listings', content_rowid = 'lid',
    tokenize = "unicode61 tokenchars ':_'"
);
INSERT INTO listing_facets (listing_facets) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER listings_facets_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listing_facets (rowid, search_facets) VALUES (new.lid, new.search_facets);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_facets_delete AFTER DELETE ON listings BEGIN
    INSERT INTO listing_facets (listing_facets, rowid, search_facets) VALUES ('delete', old.lid, old.search_facets);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_facets_update AFTER UPDATE OF search_facets ON listings BEGIN
    INSERT INTO listing_facets (listing_facets, rowid, search_facets) VALUES ('delete', old.lid, old.search_facets);
    INSERT INTO listing_facets (rowid, search_facets) VALUES (new.lid, new.search_facets);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER listings_facets_update;
DROP TRIGGER listings_facets_delete;
DROP TRIGGER listings_facets_insert;
DROP TABLE listing_facets;
ALTER TABLE listings DROP COLUMN search_facets;
