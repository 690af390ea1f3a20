"""The ASGI entry point daphne serves."""


def test_the_asgi_application_leaves_what_it_loaded_out_of_garbage_collection():
    import gc

    import saas.asgi  # noqa: F401

    assert gc.get_freeze_count() > 10_000
