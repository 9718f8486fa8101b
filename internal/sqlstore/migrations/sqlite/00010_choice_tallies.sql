-- The market's choice figures count bids by their supplier's sector on
-- every tender whose bid deadline has passed: tens of thousands of bids,
-- each joined to its supplier. tender_bid_tallies keeps each tender's
-- submitted bids by sector, written by triggers on bids (a supplier's
-- sector never changes), so that the figures read one row per tender.
-- listings_unwritten finds the few empty listings the figures leave out,
-- so that listings are counted from the directory's index alone.

-- +goose Up
CREATE TABLE tender_bid_tallies (
    tender_id       TEXT PRIMARY KEY REFERENCES tenders (id) ON DELETE CASCADE,
    nhs             INTEGER NOT NULL DEFAULT 0,
    local_authority INTEGER NOT NULL DEFAULT 0,
    third_sector    INTEGER NOT NULL DEFAULT 0,
    independent     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tender_bid_tallies (tender_id, nhs, local_authority, third_sector, independent)
SELECT b.tender_id, sum(o.sector = 'nhs'), sum(o.sector = 'local_authority'), sum(o.sector = 'third_sector'), sum(o.sector = 'independent')
FROM bids b JOIN organisations o ON o.id = b.supplier_id WHERE b.status = 'submitted' GROUP BY b.tender_id;
CREATE INDEX tenders_unsealed ON tenders (id, bid_deadline) WHERE published_at IS NOT NULL;
CREATE INDEX listings_unwritten ON listings (org_id) WHERE size = '';

-- +goose StatementBegin
CREATE TRIGGER bids_tally_insert AFTER INSERT ON bids WHEN new.status = 'submitted' BEGIN
    INSERT INTO tender_bid_tallies (tender_id, nhs, local_authority, third_sector, independent)
    SELECT new.tender_id, o.sector = 'nhs', o.sector = 'local_authority', o.sector = 'third_sector', o.sector = 'independent'
    FROM organisations o WHERE o.id = new.supplier_id
    ON CONFLICT (tender_id) DO UPDATE SET nhs = nhs + excluded.nhs, local_authority = local_authority + excluded.local_authority,
        third_sector = third_sector + excluded.third_sector, independent = independent + excluded.independent;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER bids_tally_delete AFTER DELETE ON bids WHEN old.status = 'submitted' BEGIN
    UPDATE tender_bid_tallies SET
        nhs = nhs - (SELECT o.sector = 'nhs' FROM organisations o WHERE o.id = old.supplier_id),
        local_authority = local_authority - (SELECT o.sector = 'local_authority' FROM organisations o WHERE o.id = old.supplier_id),
        third_sector = third_sector - (SELECT o.sector = 'third_sector' FROM organisations o WHERE o.id = old.supplier_id),
        independent = independent - (SELECT o.sector = 'independent' FROM organisations o WHERE o.id = old.supplier_id)
    WHERE tender_id = old.tender_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER bids_tally_update AFTER UPDATE OF status, tender_id, supplier_id ON bids BEGIN
    UPDATE tender_bid_tallies SET
        nhs = nhs - (SELECT o.sector = 'nhs' FROM organisations o WHERE o.id = old.supplier_id),
        local_authority = local_authority - (SELECT o.sector = 'local_authority' FROM organisations o WHERE o.id = old.supplier_id),
        third_sector = third_sector - (SELECT o.sector = 'third_sector' FROM organisations o WHERE o.id = old.supplier_id),
        independent = independent - (SELECT o.sector = 'independent' FROM organisations o WHERE o.id = old.supplier_id)
    WHERE tender_id = old.tender_id AND old.status = 'submitted';
    INSERT INTO tender_bid_tallies (tender_id, nhs, local_authority, third_sector, independent)
    SELECT new.tender_id, o.sector = 'nhs', o.sector = 'local_authority', o.sector = 'third_sector', o.sector = 'independent'
    FROM organisations o WHERE o.id = new.supplier_id AND new.status = 'submitted'
    ON CONFLICT (tender_id) DO UPDATE SET nhs = nhs + excluded.nhs, local_authority = local_authority + excluded.local_authority,
        third_sector = third_sector + excluded.third_sector, independent = independent + excluded.independent;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER bids_tally_update;
DROP TRIGGER bids_tally_delete;
DROP TRIGGER bids_tally_insert;
DROP INDEX listings_unwritten;
DROP INDEX tenders_unsealed;
DROP TABLE tender_bid_tallies;
