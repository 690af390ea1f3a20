from __future__ import annotations

import pytest
from django.core.cache import cache

from tenants.context import tenant_schema


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Brands are cached; each test's rows roll back, so its cache entries must go too."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def in_alpha(alpha):
    with tenant_schema(alpha.schema_name):
        yield alpha
