"""Loaded by schemathesis before the run (SCHEMATHESIS_HOOKS).

CPython 3.11.7 keeps the AST converter's recursion counter per interpreter, not per thread
(CPython issue gh-106905, fixed in 3.11.8 and 3.12.2). With two workers, two threads that turn
source into an AST at the same moment (Hypothesis does so to describe a filter's lambda) can
corrupt it and fail with "SystemError: AST constructor recursion depth mismatch". Parsing one
source at a time avoids the race; nothing else about parsing changes.

`wrangler dev`'s local proxy sometimes answers a request itself with a 503 "Your worker
restarted mid-request" (a race between the proxy and workerd, a few times per run on 2 cores;
the Worker never sees the request). The end-to-end tests resend such a request
(`till_e2e::send`); so does this run, up to twice, and only for that answer from a loopback
address. Any other 503, and any 5xx the Worker makes, is still reported.
"""

import ast
import threading
import time
from urllib.parse import urlsplit

import requests

_parse = ast.parse
_one_at_a_time = threading.Lock()


def _serialized_parse(*args, **kwargs):
    with _one_at_a_time:
        return _parse(*args, **kwargs)


ast.parse = _serialized_parse

_request = requests.Session.request
_PROXY_RESTARTED = b"Your worker restarted mid-request"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _answered_by_wrangler_proxy(url, response):
    return (
        response.status_code == 503
        and urlsplit(url).hostname in _LOOPBACK
        and response.content.startswith(_PROXY_RESTARTED)
    )


def _request_resent_past_proxy_restarts(self, method, url, *args, **kwargs):
    response = _request(self, method, url, *args, **kwargs)
    for _ in range(2):
        if not _answered_by_wrangler_proxy(url, response):
            break
        time.sleep(0.3)
        response = _request(self, method, url, *args, **kwargs)
    return response


requests.Session.request = _request_resent_past_proxy_restarts
