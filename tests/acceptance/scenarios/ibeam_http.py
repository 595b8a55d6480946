"""ibeam 0.5.12's HttpHandler (the part of ibeam usable without the Java gateway): F1-F2."""

import os
import tempfile

from common import check, control, main
from ibeam.src.handlers.http_handler import HttpHandler
from ibeam.src.handlers.inputs_handler import InputsHandler


def handler():
    scratch = tempfile.mkdtemp()
    return HttpHandler(
        inputs_handler=InputsHandler(scratch, scratch),
        base_url=os.environ["LOCALBROKER_URL"],
        route_validate="/v1/portal/sso/validate",
        route_tickle="/v1/api/tickle",
        route_logout="/v1/api/logout",
        route_reauthenticate="/v1/portal/iserver/reauthenticate?force=true",
        route_initialise="/v1/api/iserver/auth/ssodh/init",
        request_timeout=10,
    )


def f1_authenticated():
    http = handler()
    status = http.get_status()
    check(status.parsed_status == "AUTHENTICATED", str(status))
    check(len(status.session_id) == 32, f"session id {status.session_id!r}")
    check(status.server_name, f"server name {status.server_name!r}")
    check(status.expires and status.expires > 0, f"expires {status.expires!r}")
    check(http.validate() is True, "validate through /v1/portal")
    http.reauthenticate()
    check(handler().get_status().parsed_status == "AUTHENTICATED", "after reauthenticate")


def f2_logged_out():
    http = handler()
    http.logout()
    status = http.get_status()
    check(status.parsed_status in ("NOT AUTHENTICATED", "NO SESSION"), str(status))
    control("/_localbroker/session/login", {"username": "demo", "password": "demo"})
    check(handler().get_status().parsed_status == "AUTHENTICATED", "after logging in again")


if __name__ == "__main__":
    main({"F1": f1_authenticated, "F2": f2_logged_out})
