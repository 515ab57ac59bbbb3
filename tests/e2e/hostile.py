#!/usr/bin/python3
"""A hostile server for the e2e tests: it listens where etcd-hooks may look for a cluster
and answers what must never be taken for "nobody answers". Not an etcd: it serves no etcd
API, it only misbehaves.

    hostile.py --address IP --port P --mode-file FILE [--tls-cert CRT --tls-key KEY]

Each request reads the mode from FILE (one word; a missing file is "off"):
  html     200 text/html pages for every path (/version and POSTs alike)
  badlist  /version like etcd 3.5, and POST .../cluster/member/list answers 200 with a
           member list whose member has the ID "0"
  off      no listener: connections are refused until the mode changes
With --tls-cert the port speaks TLS (a self-signed certificate that no client trusts).
"""

import argparse
import http.server
import os
import socket
import ssl
import sys
import threading
import time

BADLIST = (b'{"header":{"cluster_id":"1","member_id":"1","raft_term":"2"},'
           b'"members":[{"ID":"0","name":"x","peerURLs":["http://x:2380"]}]}')
VERSION = b'{"etcdserver":"3.5.16","etcdcluster":"3.5.0"}'
HTML = b"<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()

    def mode():
        try:
            with open(a.mode_file) as f:
                return f.read().strip() or "off"
        except FileNotFoundError:
            return "off"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one answer per connection: "off" means off

        def log_message(self, fmt, *args):
            print("hostile %s:%d %s %s" % (a.address, a.port, mode(), fmt % args), flush=True)

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            m = mode()
            if m == "badlist" and self.path == "/version":
                body, ctype = VERSION, "application/json"
            elif m == "badlist":
                body, ctype = BADLIST, "application/json"
            else:
                body, ctype = HTML, "text/html"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    ctx = None
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
    server = None
    while True:
        on = mode() != "off"
        if on and server is None:
            server = Server((a.address, a.port), Handler)
            if ctx:
                # the handshake in each connection's own thread, not in accept(): one
                # client that stalls mid-handshake must not hold up the others
                server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                                do_handshake_on_connect=False)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            print("hostile %s:%d listening (%s)" % (a.address, a.port, mode()), flush=True)
        elif not on and server is not None:
            server.shutdown()
            server.server_close()
            server = None
            print("hostile %s:%d closed" % (a.address, a.port), flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
