-- The market's choice figures count bids by their supplier's sector on
-- every tender whose bid deadline has passed: tens of thousands of bids,
-- each joined to its supplier. tender_bid_tallies keeps each tender's
-- submitted bids by sector, written by a trigger on bids (a supplier's
-- sector never changes), so that the figures read one row per tender.
-- listings_unwritten finds the few empty listings the figures leave out,
-- so that listings are counted from the directory's index alone.

-- +goose Up
CREATE TABLE tender_bid_tallies (
    tender_id       text COLLATE "C" PRIMARY KEY REFERENCES tenders (id) ON DELETE CASCADE,
    nhs             integer NOT NULL DEFAULT 0,
    local_authority integer NOT NULL DEFAULT 0,
    third_sector    integer NOT NULL DEFAULT 0,
    independent     integer NOT NULL DEFAULT 0
);
INSERT INTO tender_bid_tallies (tender_id, nhs, local_authority, third_sector, independent)
SELECT b.tender_id, count(*) FILTER (WHERE o.sector = 'nhs'), count(*) FILTER (WHERE o.sector = 'local_authority'),
    count(*) FILTER (WHERE o.sector = 'third_sector'), count(*) FILTER (WHERE o.sector = 'independent')
FROM bids b JOIN organisations o ON o.id = b.supplier_id WHERE b.status = 'submitted' GROUP BY b.tender_id;
CREATE INDEX tenders_unsealed ON tenders (id, bid_deadline) WHERE published_at IS NOT NULL;
CREATE INDEX listings_unwritten ON listings (org_id) WHERE size = '';

-- +goose StatementBegin
CREATE FUNCTION bid_tally_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sec text;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.status = 'submitted' THEN
        SELECT sector INTO sec FROM organisations WHERE id = OLD.supplier_id;
        UPDATE tender_bid_tallies SET
            nhs = nhs - (sec = 'nhs')::int, local_authority = local_authority - (sec = 'local_authority')::int,
            third_sector = third_sector - (sec = 'third_sector')::int, independent = independent - (sec = 'independent')::int
        WHERE tender_id = OLD.tender_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'submitted' THEN
        SELECT sector INTO sec FROM organisations WHERE id = NEW.supplier_id;
        INSERT INTO tender_bid_tallies AS t (tender_id, nhs, local_authority, third_sector, independent)
        VALUES (NEW.tender_id, (sec = 'nhs')::int, (sec = 'local_authority')::int, (sec = 'third_sector')::int, (sec = 'independent')::int)
        ON CONFLICT (tender_id) DO UPDATE SET nhs = t.nhs + excluded.nhs, local_authority = t.local_authority + excluded.local_authority,
            third_sector = t.third_sector + excluded.third_sector, independent = t.independent + excluded.independent;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER bids_tally AFTER INSERT OR DELETE OR UPDATE OF status, tender_id, supplier_id ON bids
    FOR EACH ROW EXECUTE FUNCTION bid_tally_write();

-- +goose Down
DROP TRIGGER bids_tally ON bids;
DROP FUNCTION bid_tally_write();
DROP INDEX listings_unwritten;
DROP INDEX tenders_unsealed;
DROP TABLE tender_bid_tallies;
