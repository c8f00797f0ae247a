"""Fixtures of the ECS deploy tests (see ecs_example.py), available to every test here."""

from tests.deploy.ecs_example import (  # noqa: F401 - fixtures
    ecs_aws,
    ecs_database,
    ecs_moto,
    ecs_production_database,
    ecs_repo,
    slack_endpoint,
    smoke_endpoint,
)
