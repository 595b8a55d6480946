"""Our own OpenAPI document is valid, and Swagger UI renders it in a browser without a network."""

import json
import shutil
import subprocess
import tempfile
import urllib.request

from openapi_spec_validator import validate

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but the server's is unreachable: the page must not need the internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=15000",
]


def test_openapi_json_is_valid_openapi_3(http_server):
    with urllib.request.urlopen(f"{http_server.url}/openapi.json", timeout=10) as response:
        spec = json.loads(response.read())
    assert spec["openapi"].startswith("3.")
    validate(spec)
    assert "/v1/api/tickle" in spec["paths"]


def test_swagger_ui_renders_offline(http_server):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is needed (scripts/test installs Debian's chromium package)"
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", f"{http_server.url}/docs/"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert 'data-path="/v1/api/tickle"' in dom, dom[:2000]
    assert 'data-path="/v1/api/iserver/accounts"' in dom
    assert "LocalBroker" in dom
