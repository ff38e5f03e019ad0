"""Proves Till's card JWE with an independent JOSE library (jwcrypto).

1. Encrypts a card to the edge's published JWKS with jwcrypto; the edge must accept it as a token
   and the token must pay.
2. Decrypts, with the edge's private key, the JWE the real widget produced in the browser test
   (captured to target/till/test/widget-jwe.txt), and checks what is inside.

Run by `cargo xtask test` with TILL_EDGE_URL and TILL_ARTIFACTS set.
"""

import json
import os
import pathlib
import secrets
import sys
import time
import urllib.request

from jwcrypto import jwe, jwk

EDGE = os.environ["TILL_EDGE_URL"]
ARTIFACTS = pathlib.Path(os.environ["TILL_ARTIFACTS"])
ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_till_demo_merchant_secret"
PUBLISHABLE_KEY = "pk_test_till_demo_merchant_publishable"


def call(method, path, key=None, body=None, headers=None):
    request = urllib.request.Request(EDGE + path, method=method)
    # Publishable keys work only from browser pages: call as a page of Till's own origin.
    request.add_header("Origin", EDGE)
    if key:
        request.add_header("Authorization", "Bearer " + key)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def encrypt_with_jwcrypto():
    status, session = call("POST", "/v1/checkout_sessions", SECRET_KEY, {"amount": 1500, "currency": "EUR"})
    assert status == 200, session
    status, jwks = call("GET", "/v1/keys")
    assert status == 200, jwks
    key = jwk.JWK(**jwks["keys"][0])
    payload = {
        "card": {"number": "4242424242424242", "exp_month": 11, "exp_year": 2031, "cvc": "314", "name": "Grace Hopper"},
        "iat": int(time.time()),
        "nonce": secrets.token_urlsafe(16),
    }
    header = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": jwks["keys"][0]["kid"], "cs": session["id"]}
    token = jwe.JWE(json.dumps(payload).encode(), protected=json.dumps(header))
    token.add_recipient(key)
    compact = token.serialize(compact=True)
    body = {"checkout_session": session["id"], "client_secret": session["client_secret"], "encrypted_card": compact}
    status, created = call("POST", "/v1/tokens", PUBLISHABLE_KEY, body)
    assert status == 200, created
    card = {k: created["card"][k] for k in ("brand", "last4", "exp_month", "exp_year")}
    assert card == {"brand": "visa", "last4": "4242", "exp_month": 11, "exp_year": 2031}, created
    confirm = {"client_secret": session["client_secret"], "token": created["id"]}
    status, payment = call(
        "POST",
        "/v1/checkout_sessions/%s/confirm" % session["id"],
        PUBLISHABLE_KEY,
        confirm,
        {"Idempotency-Key": "interop-" + secrets.token_hex(8)},
    )
    assert status == 200 and payment["status"] == "succeeded", payment
    print("jwcrypto -> edge: token %s paid %s" % (created["id"], payment["id"]))


def private_keys():
    for line in (ROOT / "edge" / ".dev.vars").read_text().splitlines():
        if line.startswith("CARD_ENCRYPTION_KEYS="):
            return json.loads(line.split("=", 1)[1].strip("'"))
    raise SystemExit("CARD_ENCRYPTION_KEYS not found in edge/.dev.vars")


def decrypt_widget_output():
    compact = (ARTIFACTS / "widget-jwe.txt").read_text().strip()
    token = jwe.JWE()
    token.deserialize(compact)
    protected = json.loads(token.objects["protected"])
    assert protected["alg"] == "ECDH-ES" and protected["enc"] == "A256GCM", protected
    assert protected["cs"].startswith("cs_"), protected
    key = next(k for k in private_keys() if k["kid"] == protected["kid"])
    token.decrypt(jwk.JWK(**key))
    payload = json.loads(token.payload)
    assert payload["card"]["number"] == "4242424242424242", "the widget encrypted the card typed"
    assert payload["card"]["exp_month"] == 12 and payload["card"]["exp_year"] == 2034
    assert abs(payload["iat"] - time.time()) < 3600 and len(payload["nonce"]) >= 22
    print("widget -> jwcrypto: decrypted a %d-byte JWE for %s" % (len(compact), protected["cs"]))


if __name__ == "__main__":
    encrypt_with_jwcrypto()
    decrypt_widget_output()
    sys.exit(0)
