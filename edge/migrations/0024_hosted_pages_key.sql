-- The publishable key Till puts in the links it e-mails customers (a failed renewal's "pay now
-- or use another card"), so the hosted pages they open can call the edge. Publishable keys are
-- public by design (every merchant page carries one); this one is listed with the merchant's
-- keys as "Till hosted pages", and a new one is made when the merchant revokes or rolls it.
ALTER TABLE merchants ADD COLUMN hosted_pages_key TEXT;
