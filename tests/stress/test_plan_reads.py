"""The plan read served from its stored rendering, over three API processes on one database:
every read sees the latest committed write whichever process took it, clinic scoping holds,
and connections the database drops cost no request a 500."""

from __future__ import annotations

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.plans.models import Plan, PlanDocument
from tests import database
from tests.builders import auth_headers, make_user
from tests.sessions.builders import make_care
from tests.stress.servers import Cluster, seed

TIMEOUT = 10


def test_every_process_serves_the_latest_write(cluster: Cluster) -> None:
    care = seed(cluster.engine, make_care)
    stranger = seed(cluster.engine, make_user)
    headers = auth_headers(care.clinician)
    version = care.plan.version
    with httpx2.Client(timeout=TIMEOUT) as client:
        for step in range(6):
            writer = cluster.bases[step % len(cluster.bases)]
            written = client.patch(
                f"{writer}/api/v1/plans/{care.plan.id}",
                json={"title": f"Knee, week {step}"},
                headers={**headers, "If-Match": f'"{version}"'},
            )
            assert written.status_code == 200, written.text
            version = written.json()["version"]
            for base in cluster.bases:
                read = client.get(f"{base}/api/v1/plans/{care.plan.id}", headers=headers)
                assert read.status_code == 200, read.text
                assert read.headers["etag"] == f'"{version}"'
                assert read.json()["title"] == f"Knee, week {step}"
                progress = client.get(
                    f"{base}/api/v1/plans/{care.plan.id}/progress", headers=headers
                )
                assert progress.status_code == 200, progress.text
                assert progress.json()["plan_version"] == version

        for base in cluster.bases:
            own = client.get(
                f"{base}/api/v1/plans/{care.plan.id}", headers=auth_headers(care.patient_user)
            )
            assert own.status_code == 200
            foreign = client.get(
                f"{base}/api/v1/plans/{care.plan.id}", headers=auth_headers(stranger)
            )
            assert foreign.status_code == 404

    with Session(cluster.engine) as session:
        stored = session.scalar(
            select(PlanDocument.plan_version).where(PlanDocument.plan_id == care.plan.id)
        )
        assert stored == session.get_one(Plan, care.plan.id).version == version


@pytest.mark.skipif(database.kind() != "postgres", reason="SQLite has no server to drop them")
def test_connections_the_database_drops_cost_no_request_a_500(cluster: Cluster) -> None:
    care = seed(cluster.engine, make_care)
    headers = auth_headers(care.clinician)
    plan_url = f"/api/v1/plans/{care.plan.id}"
    with httpx2.Client(timeout=TIMEOUT) as client:
        for base in cluster.bases:  # every process has pooled connections
            assert client.get(base + plan_url, headers=headers).status_code == 200
            assert client.get(base + "/api/v1/patients", headers=headers).status_code == 200

        with cluster.engine.connect() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert dropped >= len(cluster.bases)

        for base in cluster.bases:
            # A direct read tries again on a new connection.
            assert client.get(base + plan_url, headers=headers).status_code == 200
            # An ORM read on a dropped connection is a 503 to retry, never a 500 ...
            first = client.get(base + "/api/v1/patients", headers=headers)
            assert first.status_code in (200, 503), first.text
            if first.status_code == 503:
                assert first.headers["retry-after"] == "1"
            # ... and the pool has replaced its connections for the next one.
            assert client.get(base + "/api/v1/patients", headers=headers).status_code == 200
