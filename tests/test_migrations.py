"""Every migration upgrades and downgrades, and the models match the migrated schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from app.core import migrations
from app.core.db import create_db_engine
from app.models import Base
from tests import database


@pytest.fixture
def empty_database() -> Iterator[tuple[str, Engine]]:
    url = database.create("rehab_migrations")
    engine = create_db_engine(url, pool_size=1)
    yield url, engine
    engine.dispose()
    database.drop(url)


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_models_match_the_migrations(empty_database: tuple[str, Engine]) -> None:
    url, engine = empty_database
    migrations.upgrade(url)
    assert _differences(engine) == []
    assert _tables(engine) == set(Base.metadata.tables)


def test_every_migration_upgrades_and_downgrades(empty_database: tuple[str, Engine]) -> None:
    url, engine = empty_database
    script = ScriptDirectory.from_config(migrations.alembic_config())
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert revisions, "no migrations found"
    for revision in revisions:
        migrations.upgrade(url, revision)
    assert _tables(engine) == set(Base.metadata.tables)
    for _ in revisions:
        migrations.downgrade(url, "-1")
    assert _tables(engine) == set()
    migrations.upgrade(url)
    assert _differences(engine) == []
