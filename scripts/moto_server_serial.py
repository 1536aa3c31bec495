"""moto's server, answering one request at a time.

moto's own `moto_server` serves each request on a thread of its own, and
its DynamoDB conditional transactions are not atomic across threads: two
concurrent `TransactWriteItems` with `attribute_not_exists` can both
succeed, which real DynamoDB never allows. The store's contract tests
check exactly that, so they run against this serial server. (Werkzeug's
single-threaded server speaks HTTP/1.0 and closes each connection, so an
idle pooled connection never blocks the others.)

Usage: moto_server_serial.py HOST PORT
"""

import sys

import moto.server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=moto.server.MotoRequestHandler)


if __name__ == "__main__":
    main()
