"""A small HTTPS server on 127.0.0.1, in a thread, for the requests and
urllib3 smoke apps: its certificate is signed by the corpus's test CA
(tests/corpus/data/). It answers GET /json with a JSON body, GET /text
with text in a declared charset, POST /echo with what it was sent, and any
other path with 404. Nothing leaves the machine."""
import http.server
import json
import os
import ssl
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet: stderr is not compared
        pass

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Corpus", "yes")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/json"):
            body = json.dumps({"path": self.path,
                               "agent": self.headers["User-Agent"].split("/")[0],
                               "numbers": [1, 2, 3]}).encode()
            self.reply(200, body, "application/json")
        elif self.path == "/text":
            self.reply(200, "Grüße aus Köln".encode("latin-1"),
                       "text/plain; charset=iso-8859-1")
        else:
            self.reply(404, b"not here", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.reply(200, json.dumps({
            "received": body.decode(),
            "type": self.headers["Content-Type"]}).encode(),
            "application/json")


def serve(data_dir):
    """Start the server; returns (server, "https://127.0.0.1:PORT", the CA
    file). server.shutdown() stops it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(data_dir, "server.pem"),
                        os.path.join(data_dir, "server-key.pem"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d" % server.server_address[1]
    return server, url, os.path.join(data_dir, "ca.pem")
