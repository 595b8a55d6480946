"""LocalBroker fuzzed through its own OpenAPI document by schemathesis: every generated request,
valid or not, on every documented operation, gets an answer in its surface's shape, none is a
server failure (`fuzz_checks.py`) and none hangs. Afterwards a second server, replaying the
first's whole journal without its snapshots, reaches the same state: no refused or failed
request left anything half-applied."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import MARKET_OPEN, Server

HERE = Path(__file__).resolve().parent

# A request unanswered this long counts as a hang.
REQUEST_TIMEOUT_SECONDS = 20


def digest(server):
    with urllib.request.urlopen(f"{server.url}/_localbroker/state/digest", timeout=30) as answer:
        return json.load(answer)["digest"]


def replayed(workdir):
    """A second server on a copy of the first's data, its snapshots removed, so that it
    rebuilds its state from every journaled command; and how many there are."""
    copy = workdir / "replayed"
    shutil.copytree(workdir / "data", copy)
    journal = sqlite3.connect(copy / "journal.sqlite")
    try:
        with journal:
            journal.execute("DELETE FROM snapshots")
        commands = journal.execute("SELECT count(*) FROM journal").fetchone()[0]
    finally:
        journal.close()
    args = ["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", "replayed",
            "--clock", "manual", "--start", MARKET_OPEN]
    return Server(args, workdir), commands


def test_fuzzed_requests_get_well_formed_answers(market_server, workdir):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    env = dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_checks", PYTHONPATH=str(HERE))
    command = [
        str(schemathesis), "run", f"{market_server.url}/openapi.json",
        "--checks", "answered_in_a_surfaces_shape,no_server_failure",
        "--max-examples", "10", "--seed", "7", "--no-shrink",
        "--request-timeout", str(REQUEST_TIMEOUT_SECONDS),
        # A logout would leave the rest of the run facing 401s.
        "--exclude-path", "/v1/api/logout",
        "--report-dir", str(workdir / "reports"),
    ]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    passed = re.search(r"(\d+) generated, \1 passed", done.stdout)
    assert passed and int(passed.group(1)) > 1000, done.stdout[-2000:]

    live = digest(market_server)
    market_server.stop()
    second, commands = replayed(workdir)
    try:
        assert commands > 10, f"the fuzzed requests changed next to nothing: {commands} commands"
        assert digest(second) == live, "replaying the fuzzed server's journal reaches another state"
    finally:
        second.stop()
