"""Real resources for the contract run, so schemathesis reaches past 404s: a session, payments in
several states (paid with a card encrypted by jwcrypto, as a browser would), a refund, a webhook
endpoint (on loopback), a reconciliation run, customers (one with a topped-up wallet), a
transfer, a payout, a wallet customer session with two orders asked to be refunded, API keys to
roll and revoke and a loopback origin to remove. Writes a schemathesis config that pins each
operation's path id to one of them.

Run with the interop virtualenv's Python (jwcrypto): TILL_EDGE_URL, and the config's path as the
only argument.
"""

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from jwcrypto import jwe, jwk

EDGE = os.environ["TILL_EDGE_URL"]
SECRET_KEY = "sk_test_till_demo_merchant_secret"
PUBLISHABLE_KEY = "pk_test_till_demo_merchant_publishable"


def call(method, path, key, body=None, idempotent=False):
    request = urllib.request.Request(EDGE + path, method=method)
    request.add_header("Origin", EDGE)
    request.add_header("Authorization", "Bearer " + key)
    if idempotent:
        request.add_header("Idempotency-Key", "contract-" + secrets.token_hex(8))
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit("%s %s: %d %s" % (method, path, error.code, error.read()[:300]))


def session(amount, capture="automatic", **more):
    return call("POST", "/v1/checkout_sessions", SECRET_KEY,
                {"amount": amount, "currency": "USD", "capture_method": capture, **more})


def pay(amount, number, capture="automatic", **more):
    made = session(amount, capture, **more)
    key = jwk.JWK(**call("GET", "/v1/keys", SECRET_KEY)["keys"][0])
    payload = {
        "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123", "name": "Contract Test"},
        "iat": int(time.time()),
        "nonce": secrets.token_urlsafe(16),
    }
    header = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": key.key_id, "cs": made["id"]}
    token = jwe.JWE(json.dumps(payload).encode(), protected=json.dumps(header))
    token.add_recipient(key)
    created = call("POST", "/v1/tokens", PUBLISHABLE_KEY, {
        "checkout_session": made["id"], "client_secret": made["client_secret"],
        "encrypted_card": token.serialize(compact=True),
    })
    return call("POST", "/v1/checkout_sessions/%s/confirm" % made["id"], PUBLISHABLE_KEY,
                {"client_secret": made["client_secret"], "token": created["id"]}, idempotent=True)


def main(config_path):
    paid = pay(7_100, "4242424242424242")
    held = pay(7_200, "4242424242424242", "manual")
    challenged = pay(7_300, "4000002760003184")
    refund = call("POST", "/v1/refunds", SECRET_KEY, {"payment": paid["id"], "amount": 100}, idempotent=True)
    endpoint = call("POST", "/v1/webhook_endpoints", SECRET_KEY,
                    {"url": "http://127.0.0.1:9/contract-hook", "events": ["payment.succeeded"]})
    run = call("POST", "/v1/reconciliation/runs", SECRET_KEY, {})
    open_session = session(7_400)
    sender = call("POST", "/v1/customers", SECRET_KEY,
                  {"email": "contract-%s@example.com" % secrets.token_hex(4), "name": "Contract Sender"})
    receiver = call("POST", "/v1/customers", SECRET_KEY, {"name": "Contract Receiver"})
    pay(5_000, "4242424242424242", customer=sender["id"], purpose="wallet_top_up")
    transfer = call("POST", "/v1/transfers", SECRET_KEY,
                    {"from_customer": sender["id"], "to": receiver["id"], "amount": 1_000,
                     "currency": "USD", "source": "wallet"}, idempotent=True)
    payout = call("POST", "/v1/payouts", SECRET_KEY,
                  {"customer": sender["id"], "amount": 500, "currency": "USD",
                   "bank_account": {"holder_name": "Contract Sender", "routing_number": "110000000",
                                    "account_number": "000123456789"}}, idempotent=True)
    wallet_session = call("POST", "/v1/customer_sessions", SECRET_KEY,
                          {"customer": sender["id"], "wallet": True})
    orders = [pay(6_000 + n, "4242424242424242", customer=sender["id"]) for n in range(2)]
    requests = [call("POST", "/v1/customer_sessions/%s/refund_requests" % wallet_session["id"], PUBLISHABLE_KEY,
                     {"client_secret": wallet_session["client_secret"], "payment": order["id"],
                      "kind": "refund", "reason": "Contract test"}) for order in orders]
    to_roll = call("POST", "/v1/api_keys", SECRET_KEY,
                   {"kind": "restricted", "name": "contract roll", "scopes": ["payments:read"]})
    to_revoke = call("POST", "/v1/api_keys", SECRET_KEY, {"kind": "secret", "name": "contract revoke"})
    origin = call("POST", "/v1/origins", SECRET_KEY, {"origin": "http://127.0.0.1:9"})
    pinned = {
        "GET /v1/checkout_sessions/{id}": open_session["id"],
        "POST /v1/checkout_sessions/{id}/confirm": open_session["id"],
        "GET /v1/payments/{id}": paid["id"],
        "GET /v1/payments/{id}/timeline": paid["id"],
        "POST /v1/payments/{id}/capture": held["id"],
        "POST /v1/payments/{id}/cancel": held["id"],
        "POST /v1/payments/{id}/challenge": challenged["id"],
        "GET /v1/refunds/{id}": refund["id"],
        "GET /v1/webhook_endpoints/{id}/deliveries": endpoint["id"],
        "GET /v1/reconciliation/runs/{id}": run["id"],
        "GET /v1/customers/{id}": sender["id"],
        "PATCH /v1/customers/{id}": receiver["id"],
        "GET /v1/customers/{id}/balance": sender["id"],
        "GET /v1/transfers/{id}": transfer["id"],
        "GET /v1/payouts/{id}": payout["id"],
        "GET /v1/customer_sessions/{id}/wallet": wallet_session["id"],
        "POST /v1/customer_sessions/{id}/top_ups": wallet_session["id"],
        "POST /v1/customer_sessions/{id}/transfers": wallet_session["id"],
        "POST /v1/customer_sessions/{id}/payouts": wallet_session["id"],
        "POST /v1/api_keys/{id}/roll": to_roll["id"],
        "POST /v1/api_keys/{id}/revoke": to_revoke["id"],
        "DELETE /v1/origins/{id}": urllib.parse.quote(origin["origin"], safe=""),
        "GET /v1/customer_sessions/{id}/orders": wallet_session["id"],
        "POST /v1/customer_sessions/{id}/refund_requests": wallet_session["id"],
        "POST /v1/refund_requests/{id}/approve": requests[0]["id"],
        "POST /v1/refund_requests/{id}/decline": requests[1]["id"],
    }
    with open(config_path, "w") as config:
        for name, value in pinned.items():
            config.write('[[operations]]\ninclude-name = "%s"\nparameters = { "path.id" = "%s" }\n\n'
                         % (name, value))
    print("contract fixtures: %d operations pinned to real resources" % len(pinned))


if __name__ == "__main__":
    main(sys.argv[1])
