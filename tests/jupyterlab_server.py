"""A real JupyterLab for the real-client tests: started on 127.0.0.1 with its own settings,
trust database and workspace, every wait bounded, always stopped.

    with running_lab(notebooks_dir, tmp_path) as url:
        page.goto(f"{url}/lab/tree/03_backprop_step_by_step.ipynb")
"""
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

JUPYTER = Path(sys.executable).with_name("jupyter")
START_TIMEOUT = 90  # seconds for the server to answer /api/status
STOP_TIMEOUT = 15


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(folder):
    """User settings that make every cell render whether on screen or not (JupyterLab 4
    otherwise attaches only the cells near the viewport), and no update or news checks."""
    tracker = folder / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = folder / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@contextlib.contextmanager
def running_lab(root, scratch):
    """Serve `root` with JupyterLab; yields its base URL. `scratch` holds its own state.

    The trust database is in memory, so every notebook opens untrusted, as one freshly
    downloaded or cloned does. The server is the test's alone, on 127.0.0.1 without a token,
    so its REST calls (ending sessions) skip the XSRF cookie.
    """
    assert JUPYTER.exists(), f"the real-client tests need JupyterLab in the venv: {JUPYTER} is missing"
    scratch = Path(scratch)
    settings, workspaces, runtime = scratch / "settings", scratch / "workspaces", scratch / "runtime"
    _settings(settings)
    workspaces.mkdir()
    port = free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(scratch / "config"),
               JUPYTER_PLATFORM_DIRS="1")
    log = open(scratch / "jupyterlab.log", "wb")
    cmd = [str(JUPYTER), "lab", "--no-browser", "--allow-root", "--ip", "127.0.0.1",
           "--port", str(port), "--ServerApp.port_retries=0",
           "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
           "--NotebookNotary.db_file=:memory:", "--ServerApp.disable_check_xsrf=True",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workspaces}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)  # its kernels are stopped with it
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}: "
                                   + (scratch / "jupyterlab.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, http.client.HTTPException):  # not up yet, or half up
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"JupyterLab did not answer on {url} within {START_TIMEOUT} s; log: "
                                   + (scratch / "jupyterlab.log").read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc)
        log.close()


def stop_kernels(url):
    """End every session (and its kernel): opening a notebook starts one, and ten idle
    kernels are a lot of memory for a check that runs none of them."""
    with urllib.request.urlopen(f"{url}/api/sessions", timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        req = urllib.request.Request(f"{url}/api/sessions/{session['id']}", method="DELETE")
        with urllib.request.urlopen(req, timeout=20):
            pass


def _stop(proc):
    """SIGTERM the server's process group (the server and its kernels), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT)
