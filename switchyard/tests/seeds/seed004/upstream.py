#!/usr/bin/env python3
"""Seed 004's application servers: `python3 upstream.py <ip> <port> <colour>`.

GET /healthz -> 200 "ok" (the backends' `option httpchk GET /healthz`), GET /release ->
"version=<colour>" (the seed's smoke test), anything else -> 200 "<colour>"; every answer
carries `X-Served-By: <colour>-<ip>`. HTTP/1.1 keep-alive, one thread per connection.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, with_body):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            body = b"ok\n"
        elif path == "/release":
            body = ("version=%s\n" % COLOUR).encode()
        else:
            body = ("%s\n" % COLOUR).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "%s-%s" % (COLOUR, ADDR))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ADDR, PORT, COLOUR = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer((ADDR, PORT), Handler)
    print("listening on %s:%d (%s)" % (ADDR, PORT, COLOUR), flush=True)
    server.serve_forever()
