-- The market's figures counted each sector's listed suppliers by reading
-- every one of them (a quarter of the directory per sector), and the bids
-- of unsealed tenders by joining every tally to its wide tenders row.
-- directory_tallies keeps, per sector, the active suppliers whose listing
-- is written, kept by triggers on organisations and listings; and each
-- tender_bid_tallies row keeps the moment its tender's bids unseal (the
-- bid deadline of a published tender), kept by triggers on tenders and on
-- the tallies, so that the figures read four rows and one narrow table.

-- +goose Up
CREATE TABLE directory_tallies (
    sector   TEXT PRIMARY KEY,
    listings INTEGER NOT NULL DEFAULT 0
);
INSERT INTO directory_tallies (sector, listings)
SELECT s.column1, (SELECT count(*) FROM organisations o JOIN listings l ON l.org_id = o.id
    WHERE o.kind = 'supplier' AND o.status = 'active' AND o.sector = s.column1 AND l.size <> '')
FROM (VALUES ('nhs'), ('local_authority'), ('third_sector'), ('independent')) AS s;

-- +goose StatementBegin
CREATE TRIGGER organisations_directory_tally_insert AFTER INSERT ON organisations
WHEN new.kind = 'supplier' AND new.status = 'active' BEGIN
    UPDATE directory_tallies SET listings = listings + 1
    WHERE sector = new.sector AND EXISTS (SELECT 1 FROM listings WHERE org_id = new.id AND size <> '');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER organisations_directory_tally_update AFTER UPDATE OF kind, status, sector ON organisations BEGIN
    UPDATE directory_tallies SET listings = listings - 1
    WHERE sector = old.sector AND old.kind = 'supplier' AND old.status = 'active'
        AND EXISTS (SELECT 1 FROM listings WHERE org_id = old.id AND size <> '');
    UPDATE directory_tallies SET listings = listings + 1
    WHERE sector = new.sector AND new.kind = 'supplier' AND new.status = 'active'
        AND EXISTS (SELECT 1 FROM listings WHERE org_id = new.id AND size <> '');
END;
-- +goose StatementEnd

-- A deleted organisation's listing goes by cascade, after the row: its
-- count is taken off before, while the listing can still be seen.
-- +goose StatementBegin
CREATE TRIGGER organisations_directory_untally BEFORE DELETE ON organisations
WHEN old.kind = 'supplier' AND old.status = 'active' BEGIN
    UPDATE directory_tallies SET listings = listings - 1
    WHERE sector = old.sector AND EXISTS (SELECT 1 FROM listings WHERE org_id = old.id AND size <> '');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_directory_tally_insert AFTER INSERT ON listings WHEN new.size <> '' BEGIN
    UPDATE directory_tallies SET listings = listings + 1
    WHERE sector = (SELECT o.sector FROM organisations o WHERE o.id = new.org_id AND o.kind = 'supplier' AND o.status = 'active');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_directory_tally_update AFTER UPDATE OF size, org_id ON listings
WHEN (old.size <> '') <> (new.size <> '') OR old.org_id <> new.org_id BEGIN
    UPDATE directory_tallies SET listings = listings - 1
    WHERE old.size <> '' AND sector = (SELECT o.sector FROM organisations o
        WHERE o.id = old.org_id AND o.kind = 'supplier' AND o.status = 'active');
    UPDATE directory_tallies SET listings = listings + 1
    WHERE new.size <> '' AND sector = (SELECT o.sector FROM organisations o
        WHERE o.id = new.org_id AND o.kind = 'supplier' AND o.status = 'active');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER listings_directory_tally_delete AFTER DELETE ON listings WHEN old.size <> '' BEGIN
    UPDATE directory_tallies SET listings = listings - 1
    WHERE sector = (SELECT o.sector FROM organisations o WHERE o.id = old.org_id AND o.kind = 'supplier' AND o.status = 'active');
END;
-- +goose StatementEnd

ALTER TABLE tender_bid_tallies ADD COLUMN unsealed_at TEXT;
UPDATE tender_bid_tallies SET unsealed_at = (SELECT t.bid_deadline FROM tenders t
    WHERE t.id = tender_bid_tallies.tender_id AND t.published_at IS NOT NULL);

-- +goose StatementBegin
CREATE TRIGGER tenders_bid_tally_unsealed AFTER UPDATE OF published_at, bid_deadline ON tenders BEGIN
    UPDATE tender_bid_tallies SET unsealed_at = CASE WHEN new.published_at IS NULL THEN NULL ELSE new.bid_deadline END
    WHERE tender_id = new.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER bid_tallies_unsealed AFTER INSERT ON tender_bid_tallies BEGIN
    UPDATE tender_bid_tallies SET unsealed_at = (SELECT CASE WHEN t.published_at IS NULL THEN NULL ELSE t.bid_deadline END
        FROM tenders t WHERE t.id = new.tender_id)
    WHERE tender_id = new.tender_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER bid_tallies_unsealed;
DROP TRIGGER tenders_bid_tally_unsealed;
ALTER TABLE tender_bid_tallies DROP COLUMN unsealed_at;
DROP TRIGGER listings_directory_tally_delete;
DROP TRIGGER listings_directory_tally_update;
DROP TRIGGER listings_directory_tally_insert;
DROP TRIGGER organisations_directory_untally;
DROP TRIGGER organisations_directory_tally_update;
DROP TRIGGER organisations_directory_tally_insert;
DROP TABLE directory_tallies;
