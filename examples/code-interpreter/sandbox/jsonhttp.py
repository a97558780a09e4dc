"""The JSON answer every server of the sandbox gives (app, hooks, checkpoints)."""
import json
from http.server import BaseHTTPRequestHandler


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON with a Content-Length."""

    def _reply(self, status, body=None):
        data = json.dumps({} if body is None else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
