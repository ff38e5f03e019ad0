-- The demo merchant, for local development and tests only (never applied in production).
-- Keys (documented in the README): sk_test_till_demo_merchant_secret and
-- pk_test_till_demo_merchant_publishable, stored as SHA-256 hashes.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_demo', 'Edge Goods', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_11f353ca3aaf4aef8f3b38a26c8da9bb', '11f353ca3aaf8aef5f3b38a26c8da9bb3f9738126cc0d1f09cc24e12800be269', 'mer_demo', 'secret', 'sk_test_...cret', 0),
    ('key_df3cbdcb2c9e4fd58dd919b881194725', 'df3cbdcb2c9e3fd5fdd919b881194725a98c1ec1cf144b59e3dfde227c12528a', 'mer_demo', 'publishable', 'pk_test_...able', 0);
-- The demo shop's origins: `cargo xtask dev` (8791) and `cargo xtask test` (18791).
INSERT OR IGNORE INTO merchant_origins (merchant_id, origin) VALUES
    ('mer_demo', 'http://127.0.0.1:8791'),
    ('mer_demo', 'http://127.0.0.1:18791');
-- The demo merchant's dashboard owner (README): owner@edge-goods.test, password
-- "till demo owner" (its Argon2id hash).
INSERT OR IGNORE INTO users (id, merchant_id, email, name, role, password_hash, created) VALUES
    ('usr_0d3e0f1a2b3c4d5e8f6a7b8c9d0e1f2a', 'mer_demo', 'owner@edge-goods.test', 'Demo Owner', 'owner',
     '$argon2id$v=19$m=19456,t=2,p=1$dGlsbGRlbW9vd25lcnNhbA$6RXAMRNPCuAGB21eJ66fFdTX2rATpnBA+bjpxDVltzE', 0);
-- A second merchant whose events go to the webhook test's receiver only (tests).
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_hooks', 'Hook Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_927d9dd5b899458183abfadace6f9437', '927d9dd5b899d58153abfadace6f94378f1f64b95151157bb5a52777de37fcac', 'mer_hooks', 'secret', 'sk_test_...cret', 0),
    ('key_b7b18764503245cd82ff1e545a7df815', 'b7b187645032a5cde2ff1e545a7df815f5cd122d952ede15dc678832a091a51c', 'mer_hooks', 'publishable', 'pk_test_...able', 0);
-- A third merchant for the reconciliation test: its day holds only what that test made.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_recon', 'Reconciliation Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_4c56820b3f8f4f108cc2d7c3db41a978', '4c56820b3f8f6f10bcc2d7c3db41a9789f26ac5e849eccb9919680c34ce7e36c', 'mer_recon', 'secret', 'sk_test_...cret', 0),
    ('key_86ff745a051f477983055cfc2c8e2701', '86ff745a051f7779e3055cfc2c8e2701bc5ec022f0029d906aea9da87fc923f1', 'mer_recon', 'publishable', 'pk_test_...able', 0);
-- Local development and the test suite send hundreds of payments through the demo merchants
-- from one address and with the same test cards: their rate limits are raised. (Production
-- merchants have none of this; `mer_throttle` below keeps the deployment's limits.)
UPDATE merchants SET rate_limits =
    '{"publishable_key":{"limit":10000,"window_seconds":60},"client_ip":{"limit":10000,"window_seconds":60},"card":{"limit":10000,"window_seconds":60}}'
    WHERE id IN ('mer_demo', 'mer_hooks', 'mer_recon');
-- A merchant with the deployment's default rate limits, for the card-testing tests. Keys:
-- sk_test_till_throttle_merchant_secret, pk_test_till_throttle_merchant_publishable.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_throttle', 'Throttle Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_aa5fbc54e8e54ace8c70bb7d89ed20e4', 'aa5fbc54e8e5eace7c70bb7d89ed20e4a6243a061c686c10376477e93f70205e', 'mer_throttle', 'secret', 'sk_test_...cret', 0),
    ('key_85c528c7d7f8458f8d77fff15ef9722a', '85c528c7d7f8958fdd77fff15ef9722a400cee7203dc9511f3f103ca2ae11882', 'mer_throttle', 'publishable', 'pk_test_...able', 0);
-- A merchant whose publishable key may make only 20 browser calls a minute, for the test of
-- that limit. Keys: sk_test_till_keylimit_merchant_secret, pk_test_till_keylimit_merchant_publishable.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_keylimit', 'Key Limit Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_cc6880fe985c4438883504db16aba463', 'cc6880fe985cc438983504db16aba4638fa199b13c28482ee144de45fa5878f9', 'mer_keylimit', 'secret', 'sk_test_...cret', 0),
    ('key_bd6bace133b247778b8f7cf7cb0bfb6e', 'bd6bace133b24777cb8f7cf7cb0bfb6ec23c8ffb55d2838060353dab07b5035c', 'mer_keylimit', 'publishable', 'pk_test_...able', 0);
UPDATE merchants SET rate_limits = '{"publishable_key":{"limit":20,"window_seconds":60}}'
    WHERE id = 'mer_keylimit';
-- A merchant whose customers' addresses may each make 3 browser calls a minute and its publishable
-- key 10, for the test that an address over its limit does not use up the key's. Keys:
-- sk_test_till_keyshare_merchant_secret, pk_test_till_keyshare_merchant_publishable.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_keyshare', 'Key Share Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_fb596e6a65d14115a918d5e846b9f1b6', 'a2a59ed45fa7cc50d3864000686226e3379ed38142717c745dddbb7a889eee33', 'mer_keyshare', 'secret', 'sk_test_...cret', 0),
    ('key_dfd97ced72c84873af7be5218c085f23', '3f86584257526359f45094adf86e58acd8d9a2c60755f4d4a8db004b21a31a1a', 'mer_keyshare', 'publishable', 'pk_test_...able', 0);
UPDATE merchants SET rate_limits =
    '{"publishable_key":{"limit":10,"window_seconds":60},"client_ip":{"limit":3,"window_seconds":60}}'
    WHERE id = 'mer_keyshare';
-- A merchant that connects its own Stripe account (the tests point it at localstripe). Keys:
-- sk_test_till_stripe_merchant_secret, pk_test_till_stripe_merchant_publishable.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_stripe', 'Stripe Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_b852e717ce61497387e702a65a389eda', 'b852e717ce61797387e702a65a389eda3f1d6310ec1100491e295904c40f509f', 'mer_stripe', 'secret', 'sk_test_...cret', 0),
    ('key_adf68a4fa9664ae38fbbf87482692e15', 'adf68a4fa9665ae30fbbf87482692e1505dac134ad3d7eda3e1aaa5c60c98e44', 'mer_stripe', 'publishable', 'pk_test_...able', 0);
UPDATE merchants SET rate_limits =
    '{"publishable_key":{"limit":10000,"window_seconds":60},"client_ip":{"limit":10000,"window_seconds":60},"card":{"limit":10000,"window_seconds":60}}'
    WHERE id = 'mer_stripe';
-- A merchant whose customers hold wallets, for the wallet tests, with small transfer limits
-- (500.00 per transfer, 2,000.00 per day). Keys: sk_test_till_wallet_merchant_secret,
-- pk_test_till_wallet_merchant_publishable.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_wallet', 'Wallet Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_39e52df578d94f6c88765bea640a6b35', '39e52df578d99f6c28765bea640a6b35df289462cc36bc28d35cb7eee7af722a', 'mer_wallet', 'secret', 'sk_test_...cret', 0),
    ('key_f309f5d1ef5e471d844f9a1ff7468ecc', 'f309f5d1ef5e171d544f9a1ff7468eccf44b188480f690a20e85eb1ed036c290', 'mer_wallet', 'publishable', 'pk_test_...able', 0);
UPDATE merchants SET rate_limits =
    '{"publishable_key":{"limit":10000,"window_seconds":60},"client_ip":{"limit":10000,"window_seconds":60},"card":{"limit":10000,"window_seconds":60}}',
    transfer_limits = '{"per_transfer":50000,"per_day":200000}'
    WHERE id = 'mer_wallet';

-- A merchant for the risk tests that send hundreds of attempts from one address with one card:
-- rate limits raised, Till's default risk rules on. Keys: sk_test_till_risk_merchant_secret,
-- pk_test_till_risk_merchant_publishable.
INSERT OR IGNORE INTO merchants (id, name, created) VALUES ('mer_risk', 'Risk Test Merchant', 0);
INSERT OR IGNORE INTO api_keys (id, key_hash, merchant_id, kind, redacted, created) VALUES
    ('key_7bdc84c3490b4dee82bce11903af3fd7', '7bdc84c3490b0dee42bce11903af3fd713255073cba38724ec38f1c3a7d57f3a', 'mer_risk', 'secret', 'sk_test_...cret', 0),
    ('key_fd8579dc781a4b4c83b67287b41911e4', 'fd8579dc781aeb4cf3b67287b41911e4d86bcda13c4e1f58ed83549107956610', 'mer_risk', 'publishable', 'pk_test_...able', 0);
UPDATE merchants SET rate_limits =
    '{"publishable_key":{"limit":10000,"window_seconds":60},"client_ip":{"limit":10000,"window_seconds":60},"card":{"limit":10000,"window_seconds":60}}'
    WHERE id = 'mer_risk';

-- Till's default risk rules count attempts, declines and cards per card, client address and
-- email. Local development and the test suite pay through these merchants hundreds of times an
-- hour from one address, with the same few test cards: their defaults are off. (Merchants
-- onboarded through the platform, and every production merchant, start with them on; the
-- risk tests use such merchants.)
INSERT OR IGNORE INTO risk_rules (merchant_id, id, rule, enabled, created, updated)
    SELECT m.id, d.value, NULL, 0, 0, 0
    FROM merchants AS m,
         json_each('["rule_default_card_declines", "rule_default_ip_cards",
                     "rule_default_geo_mismatch", "rule_default_new_customer",
                     "rule_default_email_attempts", "rule_default_email_cards"]') AS d
    WHERE m.id IN ('mer_demo', 'mer_hooks', 'mer_recon', 'mer_throttle', 'mer_keylimit',
                   'mer_keyshare', 'mer_stripe', 'mer_wallet');
