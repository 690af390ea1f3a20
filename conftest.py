"""pytest's rootdir marker; the test environment is set in pyproject.toml ([tool.pytest.ini_options] env)."""
