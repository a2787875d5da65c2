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
