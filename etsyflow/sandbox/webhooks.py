"""Standard-Webhooks notifications (filled in below)."""


def valid_secret(secret):
    return isinstance(secret, str) and secret.startswith("whsec_")


def send(*a, **k):
    raise NotImplementedError
