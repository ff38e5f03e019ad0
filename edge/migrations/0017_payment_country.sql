-- Where the customer paid from: Cloudflare's CF-IPCountry (ISO 3166-1 alpha-2) at confirm, for
-- reports grouped by country. NULL for payments started by a merchant's server.
ALTER TABLE payments ADD COLUMN country TEXT;
