"""pytest fixtures for the fleetrun integration tests (see fr.py).

The binaries come from $FLEETRUN_BINDIR (default: <repo>/bin). These tests
need no network: every command is local (exec and sleep steps).
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fr  # noqa: E402


def pytest_report_header(config):
    return "fleetrun binaries: %s" % fr.BINDIR


@pytest.fixture(scope="session")
def binaries():
    for b in (fr.FLEETRUN, fr.WORKER):
        if not os.access(b, os.X_OK):
            pytest.fail("%s is missing or not executable: run `make` first "
                        "(or set FLEETRUN_BINDIR)" % b, pytrace=False)
    return fr.BINDIR


@pytest.fixture
def fleet(binaries):
    f = fr.Fleet()
    yield f
    f.cleanup()


@pytest.fixture(scope="module")
def module_fleet(binaries):
    f = fr.Fleet()
    yield f
    f.cleanup()


@pytest.fixture
def pwn(tmp_path):
    """A canary path outside the test's directory that hostile input tries
    to create (`touch PATH`). At teardown the canary must not exist and the
    repository's top level and $HOME must hold no new entry: hostile data
    must not have made this machine run or write anything."""
    canary = "/tmp/fleetrun-pwn-%s" % fr.unique()
    watched = [str(fr.REPO), os.path.expanduser("~")]
    before = {d: set(os.listdir(d)) for d in watched if os.path.isdir(d)}
    yield canary
    created = os.path.exists(canary)
    if created:
        os.unlink(canary)
    assert not created, "hostile input ran code on the runner: %s was created" % canary
    for d, names in before.items():
        new = set(os.listdir(d)) - names
        assert not new, "hostile input wrote outside the test's directory: %s/%s" % (d, sorted(new))
