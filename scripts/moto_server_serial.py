"""moto_server that answers one request at a time, for the tests.

moto's DynamoDB backend checks a ConditionExpression and then writes, with no lock between the two. Under
moto_server's threaded HTTP server two conditional PutItems on one item can therefore both pass their check,
which real DynamoDB never allows (a contract test lost one of 40 optimistic increments under load). Serving
requests one by one makes each request atomic, as DynamoDB's per-item writes are. Same flags as moto_server.
"""
from __future__ import annotations

import argparse

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    run_simple(args.host, args.port, DomainDispatcherApplication(create_backend_app), threaded=False,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
