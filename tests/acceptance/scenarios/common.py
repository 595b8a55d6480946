"""What every scenario script shares: the PASS/FAIL protocol and the control plane."""

import json
import os
import sys
import traceback
import urllib.request


def control(path, body=None):
    """Calls LocalBroker's control plane (`/_localbroker/...`) and returns its JSON."""
    import ssl

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        os.environ["LOCALBROKER_URL"] + path,
        data=data,
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    # A strict server's control plane needs the admin token; a gateway's ignores it.
    if os.environ.get("LOCALBROKER_ADMIN_TOKEN"):
        request.add_header("Authorization", "Bearer " + os.environ["LOCALBROKER_ADMIN_TOKEN"])
    context = ssl._create_unverified_context()
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main(scenarios):
    """Runs the scenario named on the command line."""
    name = sys.argv[1]
    try:
        scenarios[name]()
    except Exception as error:  # noqa: BLE001 - every failure is reported the same way
        traceback.print_exc()
        print(f"FAIL {name}: {error!r}")
        sys.exit(1)
    print(f"PASS {name}")
