"""Checkpoints of the workspace (docs/checkpoints.md, "Guest contract").

Save: the orchestrator POSTs {uploadUrl, key, expiresAt, maxBytes} to CHECKPOINT_PORT; the guest tars and gzips
its workspace, PUTs it to the presigned URL (one object, valid minutes) and answers {bytes, sha256}. Restore: the
/run payload carries {payload, checkpoint: {downloadUrl, key, createdAt}}; the guest downloads and unpacks it before
it answers /run, or, past RESTORE_INLINE_SECONDS, keeps restoring in the background and reports "restoring" on
/health. No credential is involved: the URLs are the only access, and neither is logged.
"""
import hashlib
import json
import os
import tarfile
import tempfile
import threading
import urllib.request
from http.server import ThreadingHTTPServer

from jsonhttp import JsonHandler

WORKSPACE = os.environ.get("WORKSPACE", "/home/sandbox/work")
CHECKPOINT_PATH = os.environ.get("CHECKPOINT_PATH", "/checkpoint")
# /run times out after 60 s: restore inline within this budget, then carry on in the background.
RESTORE_INLINE_SECONDS = float(os.environ.get("RESTORE_INLINE_SECONDS", "45"))


class Restore:
    """The state of a restore, for /health: idle, restoring, done or failed."""

    def __init__(self):
        self.state = "idle"
        self.error = None


RESTORE = Restore()


def save(upload_url, max_bytes):
    """Archives the workspace and uploads it; returns (status, body) for the orchestrator."""
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            tar.add(WORKSPACE, arcname=".")
        size = archive.tell()
        if size > max_bytes:
            # one presigned PUT carries at most 5 GB: report it instead of uploading.
            return 413, {"error": "TooLarge", "bytes": size}
        archive.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: archive.read(1 << 20), b""):
            digest.update(chunk)
        archive.seek(0)
        request = urllib.request.Request(upload_url, data=archive, method="PUT", headers={"Content-Length": str(size)})
        with urllib.request.urlopen(request, timeout=600) as response:
            if response.status != 200:
                return 502, {"error": "UploadFailed"}
    return 200, {"bytes": size, "sha256": digest.hexdigest()}


def _safe_members(tar, root):
    root = os.path.realpath(root)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        if not (target == root or target.startswith(root + os.sep)) or member.issym() or member.islnk() or member.isdev():
            raise ValueError("unsafe member in checkpoint: %s" % member.name)
        yield member


def _restore(download_url):
    try:
        with tempfile.TemporaryFile() as archive:
            with urllib.request.urlopen(download_url, timeout=600) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    archive.write(chunk)
            archive.seek(0)
            os.makedirs(WORKSPACE, exist_ok=True)
            with tarfile.open(fileobj=archive, mode="r:gz") as tar:
                tar.extractall(WORKSPACE, members=list(_safe_members(tar, WORKSPACE)))
        RESTORE.state = "done"
    except Exception as error:  # noqa: BLE001 - reported on /health, never raised into /run
        RESTORE.state, RESTORE.error = "failed", type(error).__name__


def restore_from(run_payload):
    """Called from /run with the decoded payload; returns the caller's own payload."""
    if not isinstance(run_payload, dict) or not isinstance(run_payload.get("checkpoint"), dict) or "downloadUrl" not in run_payload["checkpoint"]:
        return run_payload
    RESTORE.state = "restoring"
    worker = threading.Thread(target=_restore, args=(run_payload["checkpoint"]["downloadUrl"],), daemon=True)
    worker.start()
    worker.join(RESTORE_INLINE_SECONDS)
    return run_payload.get("payload")


class CheckpointHandler(JsonHandler):
    server_version = "checkpoint"

    def log_message(self, fmt, *args):  # the body carries a presigned URL: never logged
        pass


    def do_POST(self):
        if self.path != CHECKPOINT_PATH:
            return self._reply(404, {"error": "not found"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            status, answer = save(body["uploadUrl"], int(body.get("maxBytes", 5 * 1024 ** 3)))
        except Exception as error:  # noqa: BLE001 - the orchestrator records the failure; the session goes on
            status, answer = 500, {"error": type(error).__name__}
        return self._reply(status, answer)


def serve_checkpoints(port):
    server = ThreadingHTTPServer(("0.0.0.0", port), CheckpointHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
