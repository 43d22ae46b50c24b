from tests.etsy.sandbox_env import env, etsy_redis_url, sandbox  # noqa: F401  (fixtures)
