from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stress.servers import Cluster, serve, throwaway_database


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    """Three API processes over one throwaway database, shared by the concurrency tests (each
    seeds its own clinic): starting processes is most of what these tests cost."""
    with throwaway_database("rehab_stress") as (url, engine), serve(url, 3) as servers:
        yield Cluster(engine, [s.base for s in servers])
