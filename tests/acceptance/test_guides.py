"""The guides' examples, run as written against a server started as the guide starts it.

Every ```sh and ```python block of a guide is run in order, in the server's working directory
(where `localbroker-data/` is), and must succeed; ```console blocks are transcripts and are not
run."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import Server, port_is_free

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def runnable_blocks(guide):
    return [(lang, code) for lang, code in BLOCK.findall(guide.read_text()) if lang in ("sh", "python")]


# The flags each guide starts LocalBroker with (its first, console, block).
GUIDES = {
    "getting-started.md": [],
    "market-data.md": ["--clock", "manual", "--start", "2026-03-03T14:30:00Z"],
    "orders.md": ["--clock", "manual", "--start", "2026-03-03T15:00:00Z"],
    "portfolio.md": ["--clock", "manual", "--start", "2026-03-03T15:00:00Z"],
    "websocket.md": ["--clock", "manual", "--start", "2026-03-03T15:00:00Z"],
    "oauth.md": ["--auth", "strict", "--admin-token", "change-me"],
    "flex.md": ["--clock", "manual", "--start", "2026-03-03T16:00:00Z"],
    "account-management.md": ["--auth", "strict", "--admin-token", "change-me", "--clock", "manual",
                              "--start", "2026-03-03T16:00:00Z"],
}


@pytest.fixture(params=sorted(GUIDES))
def guide_server(request, workdir):
    assert port_is_free(5000), "port 5000 is taken: stop the LocalBroker listening there"
    server = Server(GUIDES[request.param], workdir)
    yield request.param, server
    server.stop()


def test_guide_examples_run(guide_server):
    guide, default_server = guide_server
    blocks = runnable_blocks(DOCS / guide)
    assert blocks, f"{guide} has examples"
    env = default_server.env()
    env.pop("IBIND_REST_URL")
    python = os.environ.get("PYTHON", "python3")
    for lang, code in blocks:
        command = ["bash", "-euo", "pipefail", "-c", code] if lang == "sh" else [python, "-c", code]
        done = subprocess.run(command, cwd=default_server.cwd, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{lang} block failed:\n{code}\n{done.stdout}\n{done.stderr}"
        if lang == "sh":
            for line in done.stdout.splitlines():
                assert line.startswith(("{", "[")), f"every curl answer is JSON: {line}"
