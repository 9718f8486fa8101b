-- Every supplier is in the directory from registration: a supplier that has
-- not written its listing yet has an empty one (no summary, capabilities or
-- size; its organisation's regions), so size may now be ''. Suppliers
-- registered before without a listing get theirs here.

-- +goose Up
ALTER TABLE listings DROP CONSTRAINT listings_size_check;
ALTER TABLE listings ADD CONSTRAINT listings_size_check
    CHECK (size IN ('', 'micro', 'small', 'medium', 'large'));

INSERT INTO listings (org_id, summary, size, day_rate_min_pence, day_rate_max_pence, search_name, version, updated_at)
SELECT o.id, '', '', 0, 0, o.name, 1, o.updated_at FROM organisations o
WHERE o.kind = 'supplier' AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.org_id = o.id);
INSERT INTO listing_regions (org_id, position, region)
SELECT r.org_id, r.position, r.region FROM organisation_regions r JOIN listings l ON l.org_id = r.org_id
WHERE l.size = '';

-- +goose Down
DELETE FROM listings WHERE size = '';
ALTER TABLE listings DROP CONSTRAINT listings_size_check;
ALTER TABLE listings ADD CONSTRAINT listings_size_check
    CHECK (size IN ('micro', 'small', 'medium', 'large'));
