-- The market's figures counted each sector's listed suppliers by reading
-- every one of them (a quarter of the directory per sector), and the bids
-- of unsealed tenders by joining every tally to its wide tenders row.
-- directory_tallies keeps, per sector, the active suppliers whose listing
-- is written, kept by triggers on organisations and listings; and each
-- tender_bid_tallies row keeps the moment its tender's bids unseal (the
-- bid deadline of a published tender), kept by a trigger on tenders, so
-- that the figures read four rows and one narrow table.

-- +goose Up
CREATE TABLE directory_tallies (
    sector   text COLLATE "C" PRIMARY KEY,
    listings integer NOT NULL DEFAULT 0
);
INSERT INTO directory_tallies (sector, listings)
SELECT s.sector, (SELECT count(*) FROM organisations o JOIN listings l ON l.org_id = o.id
    WHERE o.kind = 'supplier' AND o.status = 'active' AND o.sector = s.sector AND l.size <> '')
FROM (VALUES ('nhs'), ('local_authority'), ('third_sector'), ('independent')) AS s (sector);

-- +goose StatementBegin
CREATE FUNCTION directory_tally_org() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := false;
    is_now boolean := false;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        was := OLD.kind = 'supplier' AND OLD.status = 'active'
            AND EXISTS (SELECT 1 FROM listings WHERE org_id = OLD.id AND size <> '');
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        is_now := NEW.kind = 'supplier' AND NEW.status = 'active'
            AND EXISTS (SELECT 1 FROM listings WHERE org_id = NEW.id AND size <> '');
    END IF;
    IF was THEN
        UPDATE directory_tallies SET listings = listings - 1 WHERE sector = OLD.sector;
    END IF;
    IF is_now THEN
        UPDATE directory_tallies SET listings = listings + 1 WHERE sector = NEW.sector;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD; -- before the delete, while the listing is still there
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER organisations_directory_tally AFTER INSERT OR UPDATE OF kind, status, sector ON organisations
    FOR EACH ROW EXECUTE FUNCTION directory_tally_org();
-- A deleted organisation's listing goes by cascade, after the row: its
-- count is taken off before, while the listing can still be seen.
CREATE TRIGGER organisations_directory_untally BEFORE DELETE ON organisations
    FOR EACH ROW EXECUTE FUNCTION directory_tally_org();

-- +goose StatementBegin
CREATE FUNCTION directory_tally_listing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.size <> '') = (NEW.size <> '') AND OLD.org_id = NEW.org_id THEN
        RETURN NULL; -- an edit of a written listing: its sector's row is left unlocked
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.size <> '' THEN
        UPDATE directory_tallies d SET listings = d.listings - 1 FROM organisations o
        WHERE o.id = OLD.org_id AND o.kind = 'supplier' AND o.status = 'active' AND d.sector = o.sector;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.size <> '' THEN
        UPDATE directory_tallies d SET listings = d.listings + 1 FROM organisations o
        WHERE o.id = NEW.org_id AND o.kind = 'supplier' AND o.status = 'active' AND d.sector = o.sector;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER listings_directory_tally AFTER INSERT OR DELETE OR UPDATE OF size, org_id ON listings
    FOR EACH ROW EXECUTE FUNCTION directory_tally_listing();

ALTER TABLE tender_bid_tallies ADD COLUMN unsealed_at timestamptz;
UPDATE tender_bid_tallies c SET unsealed_at = t.bid_deadline FROM tenders t
WHERE t.id = c.tender_id AND t.published_at IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION bid_tally_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tenders' THEN
        UPDATE tender_bid_tallies SET unsealed_at = CASE WHEN NEW.published_at IS NULL THEN NULL ELSE NEW.bid_deadline END
        WHERE tender_id = NEW.id;
    ELSE
        NEW.unsealed_at := (SELECT CASE WHEN t.published_at IS NULL THEN NULL ELSE t.bid_deadline END
            FROM tenders t WHERE t.id = NEW.tender_id);
        RETURN NEW;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER tenders_bid_tally_unsealed AFTER UPDATE OF published_at, bid_deadline ON tenders
    FOR EACH ROW EXECUTE FUNCTION bid_tally_unsealed();
CREATE TRIGGER bid_tallies_unsealed BEFORE INSERT ON tender_bid_tallies
    FOR EACH ROW EXECUTE FUNCTION bid_tally_unsealed();

-- +goose Down
DROP TRIGGER bid_tallies_unsealed ON tender_bid_tallies;
DROP TRIGGER tenders_bid_tally_unsealed ON tenders;
DROP FUNCTION bid_tally_unsealed();
ALTER TABLE tender_bid_tallies DROP COLUMN unsealed_at;
DROP TRIGGER listings_directory_tally ON listings;
DROP FUNCTION directory_tally_listing();
DROP TRIGGER organisations_directory_untally ON organisations;
DROP TRIGGER organisations_directory_tally ON organisations;
DROP FUNCTION directory_tally_org();
DROP TABLE directory_tallies;
