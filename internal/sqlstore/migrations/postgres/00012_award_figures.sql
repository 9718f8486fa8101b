-- The market's figures sum the final awards by the winner's sector: a scan
-- of every tender (wide rows, with their descriptions) and a read of each
-- awarded bid and its supplier. tender_awards keeps one narrow row per
-- final award (confirmed, on a tender neither cancelled nor ended
-- unsuccessful) with the winner's sector and price, written by a trigger
-- on tenders (a supplier's sector never changes, nor a bid's price after
-- the deadline), so that the sum reads those rows alone.

-- +goose Up
CREATE TABLE tender_awards (
    tender_id    text COLLATE "C" PRIMARY KEY REFERENCES tenders (id) ON DELETE CASCADE,
    confirmed_at timestamptz NOT NULL,
    sector       text NOT NULL,
    price_pence  bigint NOT NULL
);
CREATE INDEX tender_awards_confirmed ON tender_awards (confirmed_at, sector, price_pence);
INSERT INTO tender_awards (tender_id, confirmed_at, sector, price_pence)
SELECT t.id, t.award_confirmed_at, o.sector, b.price_pence FROM tenders t
JOIN bids b ON b.id = t.award_bid_id JOIN organisations o ON o.id = b.supplier_id
WHERE t.award_confirmed_at IS NOT NULL AND t.cancelled_at IS NULL AND t.unsuccessful_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION tender_award_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tender_awards WHERE tender_id = NEW.id;
    INSERT INTO tender_awards (tender_id, confirmed_at, sector, price_pence)
    SELECT NEW.id, NEW.award_confirmed_at, o.sector, b.price_pence FROM bids b JOIN organisations o ON o.id = b.supplier_id
    WHERE b.id = NEW.award_bid_id AND NEW.award_confirmed_at IS NOT NULL AND NEW.cancelled_at IS NULL AND NEW.unsuccessful_at IS NULL;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER tenders_award_figures AFTER UPDATE OF award_confirmed_at, cancelled_at, unsuccessful_at, award_bid_id ON tenders
    FOR EACH ROW EXECUTE FUNCTION tender_award_write();

-- +goose Down
DROP TRIGGER tenders_award_figures ON tenders;
DROP FUNCTION tender_award_write();
DROP TABLE tender_awards;
