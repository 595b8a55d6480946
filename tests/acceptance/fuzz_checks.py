"""Checks schemathesis runs on every answer LocalBroker gives to fuzzed requests: each is in its
surface's shape (JSON, problem details, HTML for the login page), never plain text or empty, and
no request, however malformed, makes the server fail. Loaded with SCHEMATHESIS_HOOKS."""

import schemathesis

# What LocalBroker answers on purpose with a 5xx: an operation it does not implement (501), and
# a broker that is stopping (503).
BY_DESIGN = {501, 503}

SHAPES = ("application/json", "application/problem+json", "text/html", "application/xml", "text/xml")


def header(response, name):
    value = response.headers.get(name) or response.headers.get(name.title()) or ""
    return value[0] if isinstance(value, list) else value


@schemathesis.check
def answered_in_a_surfaces_shape(ctx, response, case):
    """No answer is text/plain or empty."""
    kind = header(response, "content-type").split(";")[0].strip().lower()
    if not response.content:
        raise AssertionError(f"an empty answer ({response.status_code})")
    if kind not in SHAPES:
        raise AssertionError(f"an answer of type {kind or 'none'!r} ({response.status_code}): {response.content[:200]!r}")


@schemathesis.check
def no_server_failure(ctx, response, case):
    """Bad input gets a 4xx; a 5xx is only ever one LocalBroker gives by design."""
    if response.status_code >= 500 and response.status_code not in BY_DESIGN:
        raise AssertionError(f"the server failed: {response.status_code} {response.content[:200]!r}")
