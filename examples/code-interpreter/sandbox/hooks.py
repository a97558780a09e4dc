"""Lifecycle hooks on their own port (HOOKS_PORT), separate from the app port.

The service calls POST /aws/lambda-microvms/runtime/v1/<hook>. Hooks arrive from 127.0.0.1 inside the VM, so
any guest process could call them: they only ever *reduce* privilege or refresh identity, never grant anything.
"""
import json
import os
import secrets
import threading
import uuid
from http.server import ThreadingHTTPServer

from jsonhttp import JsonHandler

from checkpoint import restore_from

PREFIX = "/aws/lambda-microvms/runtime/v1/"


class SessionState:
    """Per-VM identity, created at /run (never at image build: that would be frozen into the snapshot)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.instance_id = None
        self.session_key = None
        self.microvm_id = None

    def start(self, microvm_id, payload):
        with self.lock:
            self.microvm_id = microvm_id
            # fresh per-VM identity and randomness: every VM of a version starts from the same memory image.
            self.instance_id = str(uuid.uuid4())
            self.session_key = payload.get("sessionKey") or secrets.token_hex(32)


STATE = SessionState()


class HookHandler(JsonHandler):
    server_version = "hooks"

    def log_message(self, fmt, *args):  # keep payloads (which may carry credentials) out of the logs
        pass


    def do_POST(self):
        if not self.path.startswith(PREFIX):
            return self._reply(404, {"error": "unknown path"})
        hook = self.path[len(PREFIX):]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        if hook == "ready" or hook == "validate":
            # 503 tells the build to retry; answer at once rather than holding the connection.
            return self._reply(200 if STATE.ready.is_set() else 503)
        if hook == "run":
            body = json.loads(raw or b"{}")
            # runHookPayload arrives as a JSON string inside the /run body: decode twice.
            payload = json.loads(body.get("runHookPayload") or "{}")
            # a relaunch with checkpoints: {payload, checkpoint}; the workspace is restored before (or while) we answer.
            payload = restore_from(payload)
            if isinstance(payload, str):
                payload = json.loads(payload or "{}")
            STATE.start(body.get("microvmId"), payload if isinstance(payload, dict) else {})
            return self._reply(200)
        if hook in ("resume", "suspend", "terminate"):
            return self._reply(200)
        return self._reply(404, {"error": "unknown hook"})


def serve_hooks(port):
    server = ThreadingHTTPServer(("0.0.0.0", port), HookHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server
