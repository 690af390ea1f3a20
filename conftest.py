"""pytest's rootdir marker.

The test environment is set in pyproject.toml ([tool.pytest.ini_options] env).
"""
