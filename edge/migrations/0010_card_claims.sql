-- A transfer paid by card to someone not yet a customer: its payment fills the transfer's claim
-- (`pending_claim:tr_…`) instead of a wallet; `payee_claim` names the transfer.
ALTER TABLE payments ADD COLUMN payee_claim TEXT;
