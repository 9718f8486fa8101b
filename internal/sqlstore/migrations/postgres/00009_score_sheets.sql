-- The comparison reads every score of a tender: 45,000 rows for 1,000
-- bids scored by five evaluators on nine criteria, where reading a row
-- costs more than using it. score_sheets keeps one row per bid and
-- evaluator (what one PutScores writes) with its scores as text,
-- "criterion=score,...", written by a trigger on scores, so that every
-- writer of scores keeps it and the comparison reads a ninth of the rows.

-- +goose Up
CREATE TABLE score_sheets (
    tender_id    text COLLATE "C" NOT NULL REFERENCES tenders (id) ON DELETE CASCADE,
    bid_id       text COLLATE "C" NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    evaluator_id text COLLATE "C" NOT NULL,
    sheet        text NOT NULL,
    PRIMARY KEY (bid_id, evaluator_id)
);
CREATE INDEX score_sheets_tender ON score_sheets (tender_id, bid_id, evaluator_id);
INSERT INTO score_sheets (tender_id, bid_id, evaluator_id, sheet)
SELECT tender_id, bid_id, evaluator_id, string_agg(criterion || '=' || score, ',')
FROM scores GROUP BY tender_id, bid_id, evaluator_id;

-- +goose StatementBegin
CREATE FUNCTION score_sheet_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO score_sheets (tender_id, bid_id, evaluator_id, sheet)
        VALUES (NEW.tender_id, NEW.bid_id, NEW.evaluator_id, NEW.criterion || '=' || NEW.score)
        ON CONFLICT (bid_id, evaluator_id) DO UPDATE SET sheet = score_sheets.sheet || ',' || excluded.sheet;
        RETURN NULL;
    END IF;
    -- A delete or an update: the old sheet made again from the rows left
    -- (and dropped when none is), and an update's new sheet too.
    UPDATE score_sheets SET sheet = COALESCE((SELECT string_agg(s.criterion || '=' || s.score, ',') FROM scores s
        WHERE s.bid_id = OLD.bid_id AND s.evaluator_id = OLD.evaluator_id), '')
    WHERE bid_id = OLD.bid_id AND evaluator_id = OLD.evaluator_id;
    DELETE FROM score_sheets WHERE bid_id = OLD.bid_id AND evaluator_id = OLD.evaluator_id AND sheet = '';
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO score_sheets (tender_id, bid_id, evaluator_id, sheet)
        SELECT s.tender_id, s.bid_id, s.evaluator_id, string_agg(s.criterion || '=' || s.score, ',') FROM scores s
        WHERE s.bid_id = NEW.bid_id AND s.evaluator_id = NEW.evaluator_id
        GROUP BY s.tender_id, s.bid_id, s.evaluator_id
        ON CONFLICT (bid_id, evaluator_id) DO UPDATE SET sheet = excluded.sheet;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER scores_sheet AFTER INSERT OR UPDATE OR DELETE ON scores
    FOR EACH ROW EXECUTE FUNCTION score_sheet_write();

-- +goose Down
DROP TRIGGER scores_sheet ON scores;
DROP FUNCTION score_sheet_write();
DROP TABLE score_sheets;
