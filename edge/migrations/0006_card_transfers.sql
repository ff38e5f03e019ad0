-- Transfers paid by card: the transfer waits `pending` on its payment; the payment's success
-- writes the money into the receiver's wallet (`payee_customer_id`) and settles the transfer in
-- the same batch, its failure fails the transfer. Either both happen or neither does.
ALTER TABLE transfers ADD COLUMN payment_id TEXT;
CREATE INDEX transfers_by_payment ON transfers (payment_id);
-- Whose wallet a payment fills when that is not its customer's own (a transfer's receiver).
ALTER TABLE payments ADD COLUMN payee_customer_id TEXT;
