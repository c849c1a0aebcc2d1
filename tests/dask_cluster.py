"""A Dask cluster on this machine for the distributed tests: two worker processes of one thread, on loopback only,
started once per run (test modules load this as a plugin: ``pytest_plugins = ["dask_cluster"]``)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def cluster():
    from distributed import LocalCluster

    # the workers are other processes: they get the device the tests run on, and no hub
    env = {"NBEDIT_DEVICE": os.environ.get("NBEDIT_TEST_DEVICE", "cpu"), "HF_HUB_OFFLINE": "1"}
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", env=env
    ) as c:
        yield c


@pytest.fixture
def client(cluster):
    """A client of the cluster; not the process's default client unless a test makes it so."""
    from distributed import Client

    with Client(cluster, set_as_default=False) as c:
        yield c
