"""ACM: requested certificates are signed by the emulator's own certificate authority,
and a DNS-validated one is issued only once its CNAME record is in a public hosted zone.

Not AWS Private CA (``CertificateAuthorityArn``): the emulator's CA plays the Amazon
CAs that sign public ACM certificates, so that a client that trusts it (``deployer
emulator ca``, or the function :func:`ca_control` serves) verifies the names the
emulator's HTTPS listeners answer for.

After the ACM user guide ("AWS Certificate Manager DNS validation", "ACM certificate
characteristics", "Concepts: ACM certificate") and the API reference
(RequestCertificate, DescribeCertificate's ``CertificateDetail``, ``DomainValidation``,
``ResourceRecord``):

* one CA a state folder of the emulator: an RSA 2048 key (mode 0600) and a
  self-signed certificate (ten years), made on first use in ``<state>/emulator-ca/``
  and kept there, so a client trusts the same CA across emulator restarts;
* every certificate RequestCertificate makes is signed by it (SHA-256 with RSA): a
  new RSA 2048 key (ACM's default ``KeyAlgorithm``), subject ``CN=`` the domain name,
  the domain name and the requested ``SubjectAlternativeNames`` as DNS names (IP
  addresses as IP addresses, as moto has them), valid for 198 days from the request
  (the user guide's "Concepts: ACM certificate"; it said 13 months, 395 days, until
  the CA/Browser Forum's 200-day limit of March 2026), key usage digitalSignature and
  keyEncipherment, extended key usage serverAuth only (no clientAuth since June
  2025), not a CA, with subject and authority key identifiers; GetCertificate's
  ``CertificateChain`` is the CA's certificate;
* ``ValidationMethod`` ``DNS``: each domain name gets a CNAME record,
  ``_<32 hex>.<domain>.`` to ``_<32 hex>.<10 letters>.acm-validations.aws.``, the same
  for a domain in one account whatever the certificate, and the same for
  ``*.example.com`` as for ``example.com`` (the guide: one record validates both). The
  certificate is ``PENDING_VALIDATION`` until, for every domain name, that record
  (name and value, case and trailing dot aside) is in a public hosted zone of Route 53
  (any account) at or above the name; then ``ISSUED``, with ``IssuedAt``. Each domain's
  ``ValidationStatus`` in ``DomainValidationOptions`` is ``SUCCESS`` once its record
  is there, else ``PENDING_VALIDATION``; ``ValidationMethod`` is ``DNS``. After 72
  hours (the emulator's clock: emulated time once :class:`AcmValidation` runs) without
  every record the certificate is ``VALIDATION_TIMED_OUT`` and the domains still
  pending are ``FAILED`` ("ACM makes repeated attempts to validate a certificate for
  72 hours and then times out"). The status is worked out whenever moto reads the
  certificate (DescribeCertificate, ListCertificates, GetCertificate, the load
  balancers' round) and by :class:`AcmValidation` every emulated minute: a poller such
  as the Terraform provider's ``aws_acm_certificate_validation`` (DescribeCertificate
  until ``ISSUED``) sees it issued with no call that changes anything;
* CreateListener and ModifyListener of elbv2 refuse, with ``UnsupportedCertificate``
  (HTTP 400, AWS's message), a DNS-validated certificate that is not ``ISSUED``, as AWS
  refuses a certificate still pending validation.

Left out: ``EMAIL`` validation (also when RequestCertificate names no method, AWS's
default) stays as moto has it: issued after ``MOTO_ACM_VALIDATION_WAIT`` seconds (60)
with no mail sent, its ``DomainValidationOptions`` as moto writes them, and usable by a
listener at once (only its signer changes); ``HTTP`` validation (CloudFront); the name
servers a zone is delegated from (any public zone of the emulator counts, delegated or
not); CAA records; the certificate's ``NotBefore`` is the request, not the issue;
renewal; Certificate Transparency logging; GetCertificate's
``RequestInProgressException`` for a certificate not yet issued.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import ipaddress
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer.atomic import write_atomically

from ._util import replace

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from moto.acm.models import CertBundle

    from deployer.emulator.scheduler import Scheduler

__all__ = [
    "GAP",
    "AcmValidation",
    "apply",
    "ca_certificate_pem",
    "ca_control",
    "configure",
]

GAP = (
    "RequestCertificate signs a certificate with its own key under a made-up Amazon "
    "issuer that no client can trust, and issues a DNS-validated certificate 60 s "
    "after the request whatever DNS holds; AWS signs with its CA and issues it once "
    "the CNAME record it names is in DNS."
)

log = logging.getLogger(__name__)

#: The CA's folder under the emulator's state folder, and its files.
CA_FOLDER = "emulator-ca"
CA_CERTIFICATE = "ca.pem"
CA_KEY = "ca-key.pem"
CA_NAME = "deployer emulator CA"
CA_VALIDITY = datetime.timedelta(days=3650)
#: A certificate ACM issues is valid this long ("Concepts: ACM certificate").
VALIDITY = datetime.timedelta(days=198)
KEY_BITS = 2048
#: ACM tries to validate for this long, then times out.
VALIDATION_TIMEOUT_S = 72 * 3600.0
#: How often (emulated seconds) :class:`AcmValidation` looks at DNS.
ROUND_S = 60.0

DNS = "DNS"
PENDING = "PENDING_VALIDATION"
ISSUED = "ISSUED"
TIMED_OUT = "VALIDATION_TIMED_OUT"
SUCCESS = "SUCCESS"
FAILED = "FAILED"

#: Attributes this patch keeps on moto's CertBundle.
_METHOD = "deployer_validation_method"
_REQUESTED = "deployer_requested_at"
_ISSUED_AT = "deployer_issued_at"
_VALIDATED = "deployer_validated_domains"

_lock = threading.Lock()
_state_dir: Path | None = None
_temporary: Path | None = None
_authorities: dict[Path, tuple[x509.Certificate, rsa.RSAPrivateKey, bytes]] = {}
_clock: Callable[[], float] = time.time


# -- the emulator's CA ---------------------------------------------------------------------------
def configure(state_dir: Path) -> None:
    """The emulator's state folder, where its CA is kept (``serve.py`` knows it)."""
    global _state_dir
    _state_dir = state_dir


def _emulator_state_dir() -> Path:
    """The state folder the CA goes in: the one :func:`configure` gave; else, in the
    emulator process (``python -m deployer.emulator.serve``), its ``--state-dir`` (or its
    ready file's folder, as ``serve.py`` defaults it); else a temporary folder for this
    process's life (moto in-process, in tests)."""
    global _temporary
    if _state_dir is not None:
        return _state_dir
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name == "deployer.emulator.serve":
        import argparse

        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--state-dir")
        parser.add_argument("--ready-file")
        known, _rest = parser.parse_known_args(sys.argv[1:])
        if known.state_dir:
            return Path(known.state_dir)
        if known.ready_file:
            return Path(known.ready_file).parent
    if _temporary is None:
        _temporary = Path(tempfile.mkdtemp(prefix="deployer-emulator-ca-"))
    return _temporary


def ca_folder(state_dir: Path) -> Path:
    return state_dir / CA_FOLDER


def _authority(state_dir: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey, bytes]:
    """The state folder's CA (certificate, key, certificate PEM), made on first use.

    Made under an exclusive lock on a file in the folder, so the emulator and the CLI
    asking at once make one CA; each file is written whole (a temporary name, then
    renamed), the key with mode 0600 from the start."""
    folder = ca_folder(state_dir).resolve()
    with _lock:
        found = _authorities.get(folder)
        if found is not None:
            return found
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            cert_path, key_path = folder / CA_CERTIFICATE, folder / CA_KEY
            if not (cert_path.is_file() and key_path.is_file()):
                cert_pem, key_pem = _new_authority()
                write_atomically(key_path, key_pem, 0o600)
                write_atomically(cert_path, cert_pem, 0o644)
                log.info("acm: made the emulator's CA in %s", folder)
            cert_pem = cert_path.read_bytes()
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path}: the emulator's CA key is not an RSA key")
        made = (x509.load_pem_x509_certificate(cert_pem), key, cert_pem)
        _authorities[folder] = made
        return made


def _new_authority() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "deployer"),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def ca_certificate_pem(state_dir: Path) -> bytes:
    """The PEM certificate of the emulator's CA for this state folder (made if none):
    what a client trusts to verify the certificates the emulator's ACM issues."""
    return _authority(state_dir)[2]


def ca_control(_body: dict[str, Any]) -> dict[str, Any]:
    """``GET /_deployer/ca``: the CA the emulator's ACM signs with, ``{"certificate":
    PEM, "path": its file}``."""
    folder = _emulator_state_dir()
    pem = ca_certificate_pem(folder)
    return {"certificate": pem.decode(), "path": str(ca_folder(folder) / CA_CERTIFICATE)}


def _issue(domain_name: str, sans: Iterable[str]) -> tuple[bytes, bytes, bytes]:
    """A certificate for the names signed by the emulator's CA: (certificate PEM, key
    PEM, CA certificate PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert, ca_key, ca_pem = _authority(_emulator_state_dir())
    names: list[str] = []
    for name in (domain_name, *sans):
        if name and name not in names:
            names.append(name)
    alternative: list[x509.GeneralName] = []
    for name in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative.append(x509.DNSName(name))
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem, ca_pem


# -- DNS validation ------------------------------------------------------------------------------
def _base(domain: str) -> str:
    """The name validated for a domain: a wildcard's parent (``*.a.com``: ``a.com``)."""
    domain = domain.rstrip(".").lower()
    return domain[2:] if domain.startswith("*.") else domain


def resource_record(account_id: str, domain: str) -> dict[str, str]:
    """The CNAME record that validates ``domain`` for the account: the same whatever the
    certificate (as ACM's: a record stays valid for renewals and new requests)."""
    base = _base(domain)
    digest = hashlib.sha256(f"{account_id}:{base}".encode()).hexdigest()
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in digest[32:42])
    return {
        "Name": f"_{digest[:32]}.{base}.",
        "Type": "CNAME",
        "Value": f"_{digest[42:64]}{digest[:10]}.{letters}.acm-validations.aws.",
    }


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _cname_in_public_zone(name: str, value: str) -> bool:
    """Whether a public hosted zone (any account) holds the CNAME ``name`` -> ``value``
    (the caller holds the backend lock, or moto is in-process)."""
    from moto.route53.models import route53_backends

    name, value = _norm(name), _norm(value)
    for _account, per_partition in list(route53_backends.items()):
        for _partition, backend in list(per_partition.items()):
            for zone in list(backend.zones.values()):
                if zone.private_zone:
                    continue
                apex = _norm(zone.name)
                if name != apex and not name.endswith("." + apex):
                    continue
                for rrset in list(zone.rrsets):
                    if str(rrset.type).upper() != "CNAME" or _norm(rrset.name) != name:
                        continue
                    values = [
                        str(v.get("Value", "") if isinstance(v, dict) else v)
                        for v in rrset.records or []
                    ]
                    if any(_norm(v) == value for v in values):
                        return True
    return False


def _domains(bundle: CertBundle) -> list[str]:
    names = [str(bundle.common_name)] if bundle.common_name else []
    return names + [s for s in bundle.sans if s not in names]


def _account(bundle: CertBundle) -> str:
    return str(bundle.arn).split(":")[4]


def _validate(bundle: CertBundle) -> None:
    """A DNS-validated certificate's status from DNS and the clock."""
    if bundle.status != PENDING:
        return
    validated: set[str] = getattr(bundle, _VALIDATED)
    account = _account(bundle)
    for domain in _domains(bundle):
        if domain in validated:
            continue
        record = resource_record(account, domain)
        if _cname_in_public_zone(record["Name"], record["Value"]):
            validated.add(domain)
    if all(domain in validated for domain in _domains(bundle)):
        bundle.status = ISSUED
        setattr(bundle, _ISSUED_AT, _clock())
        log.info("acm: %s issued: its DNS validation records are in place", bundle.arn)
    elif _clock() - float(getattr(bundle, _REQUESTED)) >= VALIDATION_TIMEOUT_S:
        bundle.status = TIMED_OUT
        log.info("acm: %s timed out: not validated in 72 hours", bundle.arn)


def _dns_validated(bundle: Any) -> bool:
    return getattr(bundle, _METHOD, None) == DNS


def check_all() -> int:
    """Every DNS-validated certificate pending validation looked at once (the caller
    holds the backend lock); returns how many are still pending."""
    from moto.acm.models import acm_backends

    pending = 0
    for _account, per_region in list(acm_backends.items()):
        for _region, backend in list(per_region.items()):
            for bundle in list(backend._certificates.values()):
                if _dns_validated(bundle):
                    bundle.check()
                    pending += bundle.status == PENDING
    return pending


class AcmValidation:
    """ACM's validation, every emulated minute: a DNS-validated certificate is issued
    once its records are in DNS, or times out (registered with the engines)."""

    name = "acm-validation"

    def __init__(self) -> None:
        self._pending = 0

    def start(self, scheduler: Scheduler) -> None:
        global _clock
        _clock = scheduler.now
        scheduler.every(ROUND_S, self.round, name=self.name)

    def round(self) -> None:
        from deployer.emulator.scheduler import BACKEND_LOCK

        with BACKEND_LOCK:
            self._pending = check_all()

    def status(self) -> dict[str, Any]:
        return {"pending_validation": self._pending}


# -- the patch -----------------------------------------------------------------------------------
def _refuse_unissued(certificate_arns: Iterable[str | None]) -> None:
    """elbv2's answer to a listener with a DNS-validated certificate not yet ISSUED."""
    from moto.acm.models import acm_backends
    from moto.elbv2.exceptions import ELBClientError

    for arn in certificate_arns:
        if not arn or ":acm:" not in arn:
            continue
        parts = arn.split(":")
        backend = acm_backends[parts[4]][parts[3]]
        bundle = backend._certificates.get(arn)
        if bundle is None or not _dns_validated(bundle):
            continue
        bundle.check()
        if bundle.status != ISSUED:
            error = ELBClientError(
                "UnsupportedCertificate",
                f"The certificate '{arn}' must have a fully-qualified domain name, "
                "a supported signature, and a supported key size.",
            )
            raise error


def apply() -> None:
    from moto.acm.models import CertBundle
    from moto.acm.responses import AWSCertificateManagerResponse
    from moto.core.responses import ActionResult
    from moto.elbv2.models import ELBv2Backend

    def generate_factory(original: Any) -> Any:
        def generate_cert(
            cls: type[CertBundle],
            domain_name: str,
            account_id: str,
            region: str,
            sans: list[str] | None = None,
            cert_authority_arn: str | None = None,
        ) -> CertBundle:
            cert_pem, key_pem, ca_pem = _issue(domain_name, sans or [])
            bundle = cls(
                account_id=account_id,
                certificate=cert_pem,
                private_key=key_pem,
                cert_type="PRIVATE" if cert_authority_arn is not None else "AMAZON_ISSUED",
                cert_status="ISSUED" if cert_authority_arn is not None else PENDING,
                cert_authority_arn=cert_authority_arn,
                region=region,
            )
            # GetCertificate's CertificateChain: the CA (moto's attribute, which vulture
            # cannot see read), not the Amazon root moto puts there.
            vars(bundle).update(chain=ca_pem)
            setattr(bundle, _REQUESTED, _clock())
            return bundle

        return classmethod(generate_cert)

    def request_factory(original: Callable[..., ActionResult]) -> Callable[..., ActionResult]:
        def request_certificate(self: AWSCertificateManagerResponse) -> ActionResult:
            result = original(self)
            method = str(self._get_param("ValidationMethod") or "").upper()
            arn = result.result["CertificateArn"]  # type: ignore[index]
            bundle = self.acm_backend._certificates[arn]
            if (
                method == DNS
                and bundle.type == "AMAZON_ISSUED"
                and getattr(bundle, _METHOD, None) is None
            ):
                setattr(bundle, _METHOD, DNS)
                setattr(bundle, _VALIDATED, set())
                bundle.check()
            return result

        return request_certificate

    def check_factory(original: Callable[[CertBundle], None]) -> Callable[[CertBundle], None]:
        def check(self: CertBundle) -> None:
            if not _dns_validated(self):
                original(self)
                return
            now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            if self._not_valid_after(self._cert) <= now:
                self.status = "EXPIRED"
                return
            _validate(self)

        return check

    def describe_factory(original: Callable[[CertBundle], dict[str, Any]]) -> Any:
        def describe(self: CertBundle) -> dict[str, Any]:
            result = original(self)
            if not _dns_validated(self):
                return result
            detail = result["Certificate"]
            validated: set[str] = getattr(self, _VALIDATED)
            account = _account(self)
            options = []
            for domain in _domains(self):
                if domain in validated:
                    status = SUCCESS
                elif self.status == TIMED_OUT:
                    status = FAILED
                else:
                    status = PENDING
                options.append(
                    {
                        "DomainName": domain,
                        "ValidationDomain": domain,
                        "ValidationStatus": status,
                        "ValidationMethod": DNS,
                        "ResourceRecord": resource_record(account, domain),
                    }
                )
            detail["DomainValidationOptions"] = options
            issued_at = getattr(self, _ISSUED_AT, None)
            if issued_at is None:
                detail.pop("IssuedAt", None)
            else:
                detail["IssuedAt"] = issued_at
            return result

        return describe

    def listener_factory(original: Callable[..., Any]) -> Callable[..., Any]:
        def create_listener(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            certificate = kwargs.get("certificate", args[4] if len(args) > 4 else None)
            _refuse_unissued([certificate])
            return original(self, *args, **kwargs)

        return create_listener

    def modify_factory(original: Callable[..., Any]) -> Callable[..., Any]:
        def modify_listener(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            certificates = kwargs.get("certificates", args[4] if len(args) > 4 else None)
            _refuse_unissued(c.get("CertificateArn") for c in certificates or [])
            return original(self, *args, **kwargs)

        return modify_listener

    replace(CertBundle, "generate_cert", generate_factory)
    replace(CertBundle, "check", check_factory)
    replace(CertBundle, "describe", describe_factory)
    replace(AWSCertificateManagerResponse, "request_certificate", request_factory)
    replace(ELBv2Backend, "create_listener", listener_factory)
    replace(ELBv2Backend, "modify_listener", modify_factory)
