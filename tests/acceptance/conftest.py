"""Fixtures: a LocalBroker started from the built binary, fresh for every test."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("LOCALBROKER_BIN", REPO / "target" / "debug" / "localbroker"))
START_TIMEOUT = 60


class Server:
    """A running `localbroker` process and where to reach it."""

    def __init__(self, args, cwd):
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: build it first (cargo build)")
        self.cwd = Path(cwd)
        self.process = subprocess.Popen(
            [str(BINARY), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        first = self._first_line()
        if not first.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"unexpected first line {first!r}: {self.process.stderr.read()}")
        self.url = first.removeprefix("listening on ").strip()
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _first_line(self):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not result:
            self.stop()
            raise RuntimeError(f"localbroker printed no address within {START_TIMEOUT} s")
        return result[0]

    @property
    def api(self):
        return f"{self.url}/v1/api/"

    def env(self, **extra):
        """The environment a scenario script runs in."""
        env = dict(os.environ)
        env.update(
            IBIND_LOG_TO_FILE="false",
            IBIND_ACCOUNT_ID="DU1234567",
            IBIND_REST_URL=self.api,
            LOCALBROKER_URL=self.url,
        )
        env.update(extra)
        return env

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="localbroker-acceptance-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def http_server(workdir):
    server = Server(["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", "data"], workdir)
    yield server
    server.stop()


# Tuesday 2026-03-03, 11:00 New York: the regular session is running. Market-data scenarios
# run on a manual clock there, so that what they see does not depend on when they run.
MARKET_OPEN = "2026-03-03T16:00:00Z"


@pytest.fixture
def market_server(workdir):
    server = Server(
        ["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", "data", "--clock", "manual", "--start", MARKET_OPEN],
        workdir,
    )
    yield server
    server.stop()


@pytest.fixture
def https_server(workdir):
    server = Server(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"], workdir)
    yield server
    server.stop()


def port_is_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def default_server(workdir):
    """Started exactly as a newcomer does: no flags at all (HTTPS on 127.0.0.1:5000)."""
    if not port_is_free(5000):
        pytest.fail(
            "port 5000 is taken: stop the LocalBroker started with `cargo run --release` (or whatever "
            "listens there); these tests start their own on the default port"
        )
    server = Server([], workdir)
    yield server
    server.stop()


def run_scenario(script, name, env, timeout=120):
    """Runs one scenario of a script; it prints `PASS <name>` or `FAIL <name>: <reason>`."""
    path = Path(__file__).parent / "scenarios" / script
    done = subprocess.run(
        [os.environ.get("PYTHON", "python3"), str(path), name],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and f"PASS {name}" in done.stdout, output
