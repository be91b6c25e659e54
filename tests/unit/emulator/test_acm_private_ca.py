"""ACM: certificates signed by the emulator's CA, issued once their DNS validation
record is in a public hosted zone (deployer.emulator.patches.acm_private_ca).

moto in this process with the patch applied: a DNS-validated certificate waits in
PENDING_VALIDATION with the CNAME record it names, is refused by CreateListener, and is
ISSUED once the records are in a public zone; a client that trusts the CA the patch
stored verifies the name on an HTTPS listener the load balancer engine serves with it.
Stock moto issues it after 60 s whatever DNS holds, under an issuer no client can trust.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deployer.emulator.patches import acm_private_ca as patch

from ._module_moto import fresh_backends, module_moto

patch.apply()

ZONE = "example.com"
NAME = f"api-service.{ZONE}"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    with module_moto(["acm", "route53", "ec2", "elbv2"], "us-east-1") as made:
        yield made


@pytest.fixture
def aws(clients: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    fresh_backends()
    patch.configure(tmp_path)
    yield clients
    patch._state_dir = None


def request(acm: Any, *sans: str) -> str:
    arn: str = acm.request_certificate(
        DomainName=NAME, ValidationMethod="DNS", SubjectAlternativeNames=[NAME, *sans]
    )["CertificateArn"]
    return arn


def describe(acm: Any, arn: str) -> dict[str, Any]:
    detail: dict[str, Any] = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    return detail


def zone(route53: Any, name: str = ZONE, *, private_vpc: str | None = None) -> str:
    extra: dict[str, Any] = {}
    if private_vpc:
        extra["VPC"] = {"VPCRegion": "us-east-1", "VPCId": private_vpc}
    zone_id: str = route53.create_hosted_zone(Name=name, CallerReference=name, **extra)[
        "HostedZone"
    ]["Id"]
    return zone_id


def put_cname(route53: Any, zone_id: str, record: dict[str, str], value: str = "") -> None:
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": record["Name"],
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": value or record["Value"]}],
                    },
                }
            ]
        },
    )


def https_listener(aws: dict[str, Any], arn: str) -> dict[str, Any]:
    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    balancer = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]
    answer = {"StatusCode": "200", "MessageBody": "over tls", "ContentType": "text/plain"}
    listener: dict[str, Any] = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": arn}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": answer}],
    )["Listeners"][0]
    return listener


def test_a_dns_certificate_is_pending_until_its_cname_records_are_in_a_public_zone(
    aws: dict[str, Any],
) -> None:
    acm, route53 = aws["acm"], aws["route53"]
    arn = request(acm, f"www.{ZONE}")
    detail = describe(acm, arn)
    assert detail["Status"] == "PENDING_VALIDATION"
    assert "IssuedAt" not in detail
    options = {o["DomainName"]: o for o in detail["DomainValidationOptions"]}
    assert sorted(options) == [NAME, f"www.{ZONE}"]
    for domain, option in options.items():
        assert option["ValidationMethod"] == "DNS"
        assert option["ValidationStatus"] == "PENDING_VALIDATION"
        record = option["ResourceRecord"]
        assert record["Type"] == "CNAME"
        assert record["Name"].endswith(f".{domain}.") and record["Name"].startswith("_")
        assert record["Value"].endswith(".acm-validations.aws.")
    # Two names, two records.
    assert options[NAME]["ResourceRecord"] != options[f"www.{ZONE}"]["ResourceRecord"]

    # The record with another value, or in a private zone, validates nothing.
    vpc = aws["ec2"].create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    private = zone(route53, "internal-" + ZONE, private_vpc=vpc)
    public = zone(route53)
    first = options[NAME]["ResourceRecord"]
    put_cname(route53, public, first, value="_wrong.acm-validations.aws.")
    private_twin = zone(route53, ZONE + ".", private_vpc=vpc)
    put_cname(route53, private_twin, first)
    assert private  # a private zone of another name exists too
    assert describe(acm, arn)["Status"] == "PENDING_VALIDATION"

    # One of two names validated: still pending, that one SUCCESS.
    put_cname(route53, public, first)
    detail = describe(acm, arn)
    assert detail["Status"] == "PENDING_VALIDATION"
    statuses = {o["DomainName"]: o["ValidationStatus"] for o in detail["DomainValidationOptions"]}
    assert statuses == {NAME: "SUCCESS", f"www.{ZONE}": "PENDING_VALIDATION"}
    with pytest.raises(ClientError) as refused:
        https_listener(aws, arn)
    assert refused.value.response["Error"]["Code"] == "UnsupportedCertificate"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    # Both: ISSUED, seen by DescribeCertificate alone (as the provider's waiter polls).
    put_cname(route53, public, options[f"www.{ZONE}"]["ResourceRecord"])
    detail = describe(acm, arn)
    assert detail["Status"] == "ISSUED"
    assert "IssuedAt" in detail
    assert {o["ValidationStatus"] for o in detail["DomainValidationOptions"]} == {"SUCCESS"}
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [arn]
    assert https_listener(aws, arn)["Protocol"] == "HTTPS"


def test_a_wildcard_shares_its_parents_record_and_a_new_request_is_issued_at_once(
    aws: dict[str, Any],
) -> None:
    acm, route53 = aws["acm"], aws["route53"]
    arn = acm.request_certificate(
        DomainName=f"*.{ZONE}", ValidationMethod="DNS", SubjectAlternativeNames=[ZONE]
    )["CertificateArn"]
    records = {o["ResourceRecord"]["Name"] for o in describe(acm, arn)["DomainValidationOptions"]}
    assert len(records) == 1  # *.example.com and example.com: one record
    put_cname(
        route53, zone(route53), describe(acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
    )
    assert describe(acm, arn)["Status"] == "ISSUED"
    # The record stays valid: another certificate for the name is issued on request.
    again = acm.request_certificate(DomainName=ZONE, ValidationMethod="DNS")["CertificateArn"]
    assert describe(acm, again)["Status"] == "ISSUED"


def test_a_certificate_not_validated_in_72_hours_times_out(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    acm = aws["acm"]
    now = [1_000_000.0]
    monkeypatch.setattr(patch, "_clock", lambda: now[0])
    arn = request(acm)
    now[0] += 71 * 3600
    assert describe(acm, arn)["Status"] == "PENDING_VALIDATION"
    now[0] += 3600
    detail = describe(acm, arn)
    assert detail["Status"] == "VALIDATION_TIMED_OUT"
    assert detail["DomainValidationOptions"][0]["ValidationStatus"] == "FAILED"


def test_the_certificate_is_signed_by_the_ca_and_a_client_trusting_it_verifies_the_name(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    """The load balancer engine serves the HTTPS listener with the issued certificate; a
    client that trusts the exported CA verifies ``api-service.<zone>`` and a SAN, and one
    that does not trust it, or asks for another name, is refused."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    from deployer.emulator.engines.elb_listeners import ElbListeners

    acm, route53 = aws["acm"], aws["route53"]
    arn = request(acm, f"www.{ZONE}")
    public = zone(route53)
    for option in describe(acm, arn)["DomainValidationOptions"]:
        put_cname(route53, public, option["ResourceRecord"])
    assert describe(acm, arn)["Status"] == "ISSUED"

    ca_pem = patch.ca_certificate_pem(tmp_path)
    got = acm.get_certificate(CertificateArn=arn)
    assert got["CertificateChain"].strip() == ca_pem.decode().strip()
    leaf = x509.load_pem_x509_certificate(got["Certificate"].encode())
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert leaf.issuer == ca.subject
    key = leaf.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == datetime.timedelta(days=198)
    assert describe(acm, arn)["KeyAlgorithm"] == "RSA_2048"

    https_listener(aws, arn)
    engine = ElbListeners(lambda _ip, _port: None, lock=threading.RLock())
    try:
        engine.reconcile()
        (served,) = engine.status()["listeners"].values()
        host, port = served["address"].split(":")
        trusting = ssl.create_default_context(cadata=ca_pem.decode())
        for name in (NAME, f"www.{ZONE}"):
            assert _get(trusting, host, int(port), name).endswith(b"over tls")
        with pytest.raises(ssl.SSLCertVerificationError):
            _get(trusting, host, int(port), f"other.{ZONE}")
        with pytest.raises(ssl.SSLCertVerificationError):
            _get(
                ssl.create_default_context(cafile=None, capath="/nonexistent"),
                host,
                int(port),
                NAME,
            )
    finally:
        engine.close()


def _get(context: ssl.SSLContext, host: str, port: int, name: str) -> bytes:
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_ca_is_kept_in_the_state_folder_with_its_key_private(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    first = patch.ca_certificate_pem(tmp_path)
    folder = tmp_path / patch.CA_FOLDER
    assert (folder / patch.CA_CERTIFICATE).read_bytes() == first
    assert stat.S_IMODE((folder / patch.CA_KEY).stat().st_mode) == 0o600
    patch._authorities.clear()  # a new process: read from the folder, not made again
    assert patch.ca_certificate_pem(tmp_path) == first
    assert patch.ca_control({})["certificate"] == first.decode()
    other = tmp_path / "other-state"
    assert patch.ca_certificate_pem(other) != first  # one CA a state folder


def test_email_validation_is_left_as_moto_has_it(aws: dict[str, Any]) -> None:
    """No method (AWS's default, EMAIL): moto's timing and a listener accepts it at once
    (the listener engine's own tests rely on that); only the signer is the CA."""
    acm = aws["acm"]
    arn = acm.request_certificate(DomainName=NAME)["CertificateArn"]
    assert describe(acm, arn)["Status"] == "PENDING_VALIDATION"
    assert https_listener(aws, arn)["Protocol"] == "HTTPS"
    assert describe(acm, arn)["Issuer"] == patch.CA_NAME


def test_the_cli_prints_and_writes_the_ca(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``deployer emulator ca`` answers the CA of the project's state folder, the one the
    emulator signs with (the emulator gets the same folder as ``--state-dir``)."""
    import json

    from deployer import cli

    expected = patch.ca_certificate_pem(project / ".deployer")
    assert cli.main(["emulator", "ca"]) == 0
    assert capsys.readouterr().out == expected.decode()
    out = project / "trust.pem"
    assert cli.main(["--json", "emulator", "ca", "--out", str(out)]) == 0
    assert out.read_bytes() == expected
    assert json.loads(capsys.readouterr().out)["out"] == str(out)
    assert cli.main(["emulator", "status", "--out", str(out)]) == 2  # --out goes with ca


def test_the_validation_engine_issues_without_a_read(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACM validates on its own: the engine's round issues a certificate whose records
    are in place before anyone describes it, and runs on the emulator's clock."""
    from moto.acm.models import acm_backends

    acm, route53 = aws["acm"], aws["route53"]
    arn = request(acm)
    record = describe(acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
    put_cname(route53, zone(route53), record)
    bundle = acm_backends[ACCOUNT]["us-east-1"]._certificates[arn]
    assert bundle.status == "PENDING_VALIDATION"  # nothing has looked since

    class Clock:
        def __init__(self) -> None:
            self.jobs: list[tuple[float, str]] = []

        def now(self) -> float:
            return 42.0

        def every(self, interval: float, _fn: Any, *, name: str) -> None:
            self.jobs.append((interval, name))

    monkeypatch.setattr(patch, "_clock", patch._clock)  # restored after the test
    engine = patch.AcmValidation()
    clock = Clock()
    engine.start(clock)  # type: ignore[arg-type]
    assert clock.jobs == [(60.0, "acm-validation")] and patch._clock() == 42.0
    engine.round()
    assert bundle.status == "ISSUED"
    assert engine.status() == {"pending_validation": 0}
