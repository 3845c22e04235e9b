"""Debian's Chromium for the browser tests, launched headless through Playwright (whose own
browser download does not work here)."""
import os

CHROMIUM = "/usr/bin/chromium"


def launch(p):
    """A headless Chromium from `sync_playwright()`'s `p`; it fails (not skips) without one."""
    assert os.access(CHROMIUM, os.X_OK), (
        "the browser tests need Debian's chromium: `sudo apt-get install chromium` "
        "(`make test` installs it)")
    return p.chromium.launch(executable_path=CHROMIUM,
                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
