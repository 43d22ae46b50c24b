"""TLS verifies by default everywhere (issue 12, item 8).

A private Redis with TLS only, its certificate signed by a CA made here: the
state client, the Dramatiq broker and the event bus must refuse it until the
URL names that CA, and must refuse a name the certificate does not carry.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import ssl
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from etsyflow.config import ConfigError, Settings
from etsyflow.messages.bus import connection, kombu_parameters


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(directory):
    """A CA, and a server certificate for 127.0.0.1 only (not "localhost")."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("etsyflow test CA")).issuer_name(_name("etsyflow test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: directory / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    directory = tmp_path_factory.mktemp("tls")
    pki = make_pki(directory)
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                             "--tls-cert-file", str(pki["cert"]), "--tls-key-file", str(pki["key"]),
                             "--tls-ca-cert-file", str(pki["ca"]), "--tls-auth-clients", "no",
                             "--save", "", "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.skip("redis-server did not start with TLS (built without TLS?)")
    yield port, pki["ca"]
    proc.terminate()
    proc.wait(10)


def _bus_ping(url: str) -> None:
    with connection(url) as conn:
        conn.ensure_connection(max_retries=1)
        conn.default_channel.client.ping()


def test_bus_verifies_the_certificate(tls_redis):
    port, ca = tls_redis
    with pytest.raises(Exception, match="(?i)certificate|ssl"):
        _bus_ping(f"rediss://127.0.0.1:{port}/0")
    _bus_ping(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}")


def test_bus_checks_the_host_name(tls_redis):
    port, ca = tls_redis
    with pytest.raises(Exception, match="(?i)hostname|match|certificate"):
        _bus_ping(f"rediss://localhost:{port}/0?ssl_ca_certs={ca}")


def test_state_and_broker_verify_the_certificate(configure, tls_redis):
    from etsyflow.workers.broker import build_broker
    from etsyflow.state.connection import make_client

    port, ca = tls_redis
    with pytest.raises(Exception, match="(?i)certificate|ssl"):
        make_client(f"rediss://127.0.0.1:{port}/0").ping()
    assert make_client(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}").ping()
    configure(REDIS_URL=f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}")
    broker = build_broker()
    try:
        assert broker.client.ping()
    finally:
        broker.close()


def test_amqps_bus_uses_verified_tls():
    url, options = kombu_parameters("amqps://user:pw@rabbit.example/vh")
    assert url == "pyamqp://user:pw@rabbit.example:5671/vh"
    assert options == {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": "rabbit.example"}
    with connection("amqps://user:pw@rabbit.example/vh") as conn:  # no "No such transport: pyamqps"
        assert conn.transport.driver_type == "amqp" and conn.ssl == options
    url, options = kombu_parameters("amqps://rabbit.example:5999/?ssl_ca_certs=/etc/ca.pem&heartbeat=30")
    assert url == "pyamqp://rabbit.example:5999/?heartbeat=30"
    assert options["ca_certs"] == "/etc/ca.pem" and options["cert_reqs"] == ssl.CERT_REQUIRED


def test_url_options_are_honoured():
    _url, options = kombu_parameters("rediss://r.example:6380/0?ssl_cert_reqs=none")
    assert options["ssl_cert_reqs"] == ssl.CERT_NONE and options["ssl_check_hostname"] is False
    _url, options = kombu_parameters("rediss://r.example:6380/0")
    assert options == {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_check_hostname": True}
    assert kombu_parameters("redis://r.example:6379/0") == ("redis://r.example:6379/0", None)


@pytest.mark.parametrize("name", ["REDIS_URL", "BROKER_URL", "EVENTS_URL"])
def test_unix_sockets_are_refused_at_validation(name):
    env = {"REDIS_URL": "redis://127.0.0.1:6379/0", name: "unix:///var/run/redis.sock"}
    with pytest.raises(ConfigError, match=f"{name}.*unix sockets are not supported"):
        Settings.from_env(env)


def test_amqps_broker_verifies(configure):
    from etsyflow.workers.broker import build_broker

    configure(REDIS_URL="redis://127.0.0.1:6379/15", BROKER_URL="amqps://user:pw@rabbit.example/vh")
    broker = build_broker()
    context = broker.parameters.ssl_options.context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert broker.parameters.port == 5671
