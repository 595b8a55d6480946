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
            LOCALBROKER_CLIENT=OAUTH_CLIENT,
            LOCALBROKER_ADMIN_TOKEN=ADMIN_TOKEN,
        )
        keys = getattr(self, "keys", None)
        if keys:
            env["LOCALBROKER_KEYS"] = str(keys)
            # C5: ibauth (httpx) trusts the server's self-signed certificate through this.
            certificate = self.cwd / "data" / "tls" / "cert.pem"
            if self.url.startswith("https://") and certificate.exists():
                env["SSL_CERT_FILE"] = str(certificate)
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


OAUTH_CLIENT = "ACCEPTANCECLIENT"
ADMIN_TOKEN = "acceptance-admin-token"


def key_pair(directory, name):
    """A fresh RSA key pair in `directory`: the private and public key files."""
    private = Path(directory) / f"{name}.key"
    public = Path(directory) / f"{name}.pub"
    subprocess.run(["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", str(private), "-pubout", "-out", str(public)], check=True, capture_output=True)
    return private, public


def oauth_server(workdir, *flags, scopes="sso-sessions.write", world=()):
    """A strict server whose journal holds the OAuth client, registered beforehand with
    `localbroker clients add` as a fintech's operator would: key `main` for the scenarios,
    key `other` for the one that signs with a key it never registered. The first `clients add`
    creates the world, so the new world's options (`world`) go to it. The client manages the
    account of `demo`, whose sessions the scenarios open: a client acts only for its own."""
    keys = Path(workdir) / "keys"
    keys.mkdir()
    for kid in ["main", "other"]:
        _, public = key_pair(keys, kid)
        localbroker(workdir, "clients", "add", "--client-id", OAUTH_CLIENT, "--kid", kid, "--public-key", str(public),
                    "--scopes", scopes, "--data-dir", "data", *world)
    localbroker(workdir, "clients", "manage", OAUTH_CLIENT, "DU1234567", "--data-dir", "data")
    key_pair(keys, "unregistered")
    return strict(workdir, keys, *flags)


def strict(workdir, keys, *flags):
    """A strict server on the journal of `workdir`, its client's keys in `keys`."""
    args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", "data", "--auth", "strict",
            "--admin-token", ADMIN_TOKEN, *flags]
    server = Server(args, workdir)
    server.keys = keys
    return server


def localbroker(workdir, *args):
    """Runs a `localbroker` command to its end, as an operator would."""
    subprocess.run([str(BINARY), *args], cwd=workdir, check=True, capture_output=True)


@pytest.fixture
def strict_server(workdir):
    server = oauth_server(workdir, "--http")
    yield server
    server.stop()


@pytest.fixture
def strict_unpaced_server(workdir):
    """Strict, without pacing: IBKR allows one sso/validate a minute per username, and a
    scenario connecting the same user twice would wait for it."""
    server = oauth_server(workdir, "--http", "--pacing", "off")
    yield server
    server.stop()


@pytest.fixture
def strict_https_server(workdir):
    server = oauth_server(workdir)
    yield server
    server.stop()


@pytest.fixture
def paced_server(workdir):
    server = Server(
        ["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", "data", "--pacing", "ibkr",
         "--clock", "manual", "--start", MARKET_OPEN],
        workdir,
    )
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
