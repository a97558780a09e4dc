"""A small code interpreter: POST /execute {"code": "..."} runs Python in a subprocess as an unprivileged user.

The MicroVM is the isolation boundary; the subprocess limits only keep one runaway snippet from starving the
session. Output is capped, and the request must carry the per-session key delivered through /run.
"""
import hmac
import json
import os
import subprocess
import sys
from http.server import ThreadingHTTPServer

from jsonhttp import JsonHandler

from checkpoint import RESTORE, serve_checkpoints
from hooks import STATE, serve_hooks

APP_PORT = int(os.environ.get("APP_PORT", "8080"))
HOOKS_PORT = int(os.environ.get("HOOKS_PORT", "9000"))
# the checkpoint port (docs/checkpoints.md): never in a client's token; empty turns checkpoints off.
CHECKPOINT_PORT = os.environ.get("CHECKPOINT_PORT", "")
TIMEOUT = int(os.environ.get("EXECUTION_TIMEOUT_SECONDS", "30"))
MAX_OUTPUT = int(os.environ.get("MAX_OUTPUT_BYTES", "65536"))
MAX_BODY = 256 * 1024
# the unprivileged user snippets run as; empty runs them as the server user (local tests only).
RUN_AS = os.environ.get("RUN_AS", "sandbox")


class AppHandler(JsonHandler):
    server_version = "interpreter"

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.command, self.path.split("?")[0]))


    def do_GET(self):
        if self.path == "/health":
            if RESTORE.state == "restoring":
                # a large workspace still unpacking after /run answered: clients and the smoke test wait for this.
                return self._reply(503, {"status": "restoring"})
            return self._reply(200, {"status": "ok", "instance": STATE.instance_id, "restore": RESTORE.state})
        return self._reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/execute":
            return self._reply(404, {"error": "not found"})
        key = self.headers.get("X-Session-Key", "")
        if STATE.session_key is None or not hmac.compare_digest(key, STATE.session_key):
            return self._reply(401, {"error": "missing or wrong X-Session-Key"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._reply(413, {"error": "body too large"})
        try:
            code = json.loads(self.rfile.read(length) or b"{}")["code"]
        except (ValueError, KeyError, TypeError):
            return self._reply(400, {"error": "body must be {\"code\": \"...\"}"})
        try:
            command = [sys.executable, "-I", "-c", code]
            if RUN_AS:
                command = ["runuser", "-u", RUN_AS, "--"] + command
            done = subprocess.run(
                command,
                capture_output=True, timeout=TIMEOUT, cwd="/tmp",
            )
            return self._reply(200, {
                "exitCode": done.returncode,
                "stdout": done.stdout[:MAX_OUTPUT].decode(errors="replace"),
                "stderr": done.stderr[:MAX_OUTPUT].decode(errors="replace"),
            })
        except subprocess.TimeoutExpired:
            return self._reply(200, {"exitCode": None, "error": "timed out after %ds" % TIMEOUT})


def main():
    serve_hooks(HOOKS_PORT)
    if CHECKPOINT_PORT:
        serve_checkpoints(int(CHECKPOINT_PORT))
    app = ThreadingHTTPServer(("0.0.0.0", APP_PORT), AppHandler)
    STATE.ready.set()
    app.serve_forever()


if __name__ == "__main__":
    main()
