"""One ``mock_aws`` and one set of boto3 clients for a test module, fresh backends each test.

Starting ``mock_aws`` replaces boto3's default session (moto's ``reset_boto3_session``),
so every client made after it parses its botocore service model again: a test module
that started ``mock_aws`` and made half a dozen clients for each test spent most of its
CPU there. :func:`module_moto` starts ``mock_aws`` once for a module and makes its
clients once; :func:`fresh_backends`, called before each test, resets every moto
backend and model instance as ``mock_aws`` does when it starts and stops, so each test
still begins with nothing in moto. Clients hold none of moto's state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data


@contextmanager
def module_moto(services: Sequence[str], region: str) -> Iterator[dict[str, Any]]:
    """Inside one ``mock_aws``: a client of each service, with test credentials and no
    profile or endpoint of the environment's."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            make: Any = boto3.client  # any service name, not a literal
            yield {service: make(service, region_name=region) for service in services}


def fresh_backends() -> None:
    """Every moto backend and model instance reset, as ``mock_aws`` resets them."""
    BackendDict.reset()
    reset_model_data()
