from tests.support.sharing import shared_code, system  # noqa: F401  (fixtures)
