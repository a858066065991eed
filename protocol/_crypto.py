"""Key schedule, handshake messages and record protection.

Choices (PROTOCOL.md explains them at length):
- SPAKE2 (``spake2`` package, Ed25519 group, A = viewer, B = host) turns the short secret half of the
  session code into a strong shared key, giving an attacker one online guess per handshake and nothing to
  test offline. The identities bind the routing id and the roles.
- Ephemeral X25519 adds forward secrecy that does not depend on the code staying secret afterwards.
- HKDF-SHA256 extracts a master secret from both shared secrets, salted with the transcript hash, and
  expands per-direction traffic secrets, confirmation keys and a resume secret from it.
- ChaCha20-Poly1305 seals records; the nonce is a per-direction IV XOR a 64-bit record counter, so sequence
  numbers are implicit and any dropped, replayed or reordered record fails authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from spake2 import SPAKE2_A, SPAKE2_B

from ._errors import (
    FramingError,
    HandshakeError,
    IntegrityError,
    ReorderError,
    ReplayError,
    ResumeRejected,
    WrongCode,
)

# -- record types (the first byte of every transport message) ----------------------------------------------
#: Viewer's first handshake message.
RECORD_CLIENT_HELLO = 0x01
#: Host's handshake answer, with its key confirmation.
RECORD_SERVER_HELLO = 0x02
#: Viewer's key confirmation.
RECORD_CONFIRM = 0x03
#: Viewer's first resume message.
RECORD_RESUME_HELLO = 0x04
#: Host's resume answer, with its proof.
RECORD_RESUME_ACCEPT = 0x05
#: Viewer's resume proof.
RECORD_RESUME_CONFIRM = 0x06
#: Unauthenticated handshake abort (one reason byte); only accepted before the session is established.
RECORD_ALERT = 0x15
#: An AEAD-sealed record: type, key epoch (4 bytes), ciphertext with its 16-byte tag.
RECORD_SEALED = 0x17

#: Wire versions this implementation speaks (lowest, highest).
SUPPORTED_VERSIONS = (1, 2)
#: Bytes of every random nonce in the handshakes.
NONCE_SIZE = 32
#: Bytes of a SPAKE2 message (side byte + Ed25519 point).
SPAKE_MESSAGE_SIZE = 33
#: Bytes of an X25519 public key.
X25519_SIZE = 32
#: Bytes of every confirmation MAC (HMAC-SHA256).
MAC_SIZE = 32
#: Bytes of a session id (names the secure session in resume messages).
SESSION_ID_SIZE = 16
#: Bytes of a sealed record's header: type + epoch.
SEALED_HEADER_SIZE = 5
#: Bytes of the AEAD tag.
TAG_SIZE = 16
#: How many neighbouring record numbers are tried to tell a replay or a reordering from an alteration.
DIAGNOSE_WINDOW = 32

# Alert reasons (RECORD_ALERT's byte).
ALERT_AUTHENTICATION = 1  #: key confirmation failed
ALERT_VERSION = 2  #: no common version
ALERT_MALFORMED = 3  #: a handshake message did not parse
ALERT_RESUME = 4  #: the resume proof failed
ALERT_CODE_DEAD = 5  #: the code is dead

_LABEL = b"opensupport/1 "


def _expand(secret: bytes, label: str, length: int = 32) -> bytes:
    return HKDFExpand(hashes.SHA256(), length, _LABEL + label.encode()).derive(secret)


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt, ikm, "sha256")


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def _sha256(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


@dataclass
class SessionSecrets:
    """What both ends share once a handshake (full or resume) has completed."""

    viewer_to_host: bytes
    host_to_viewer: bytes
    resume_secret: bytes
    session_id: bytes


def _derive(master: bytes, session_id: bytes | None = None) -> SessionSecrets:
    return SessionSecrets(
        viewer_to_host=_expand(master, "viewer to host"),
        host_to_viewer=_expand(master, "host to viewer"),
        resume_secret=_expand(master, "resume"),
        session_id=session_id if session_id is not None else _expand(master, "session id", SESSION_ID_SIZE),
    )


def _identities(routing_id: bytes) -> tuple[bytes, bytes]:
    return b"opensupport viewer " + routing_id, b"opensupport host " + routing_id


def _spake_finish(spake: SPAKE2_A | SPAKE2_B, message: bytes) -> bytes:
    try:
        key = spake.finish(message)
    except Exception as exc:  # the package raises several unrelated types for a bad point or side byte
        raise HandshakeError(f"malformed SPAKE2 message: {type(exc).__name__}") from exc
    assert isinstance(key, bytes)
    return key


def _x25519(private: X25519PrivateKey, public: bytes) -> bytes:
    try:
        return private.exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError as exc:  # a low-order point gives an all-zero secret, which cryptography refuses
        raise HandshakeError("malformed X25519 public key") from exc


class ViewerHandshake:
    """The viewer's side of the full handshake (it speaks first)."""

    def __init__(self, routing_id: bytes, secret: bytes) -> None:
        self._routing_id = routing_id
        id_a, id_b = _identities(routing_id)
        self._spake = SPAKE2_A(secret, idA=id_a, idB=id_b)
        self._x25519 = X25519PrivateKey.generate()
        lo, hi = SUPPORTED_VERSIONS
        self.client_hello = (
            bytes([RECORD_CLIENT_HELLO, lo, hi, len(routing_id)])
            + routing_id
            + bytes(self._spake.start())
            + self._x25519.public_key().public_bytes_raw()
            + os.urandom(NONCE_SIZE)
        )

    def receive_server_hello(self, record: bytes) -> tuple[int, SessionSecrets, bytes]:
        """Check the host's answer. Returns (version, secrets, confirm record).

        Raises HandshakeError (malformed), VersionMismatch, WrongCode (the host's confirmation is wrong).
        """
        expected = 2 + SPAKE_MESSAGE_SIZE + X25519_SIZE + NONCE_SIZE + MAC_SIZE
        if len(record) != expected:
            raise HandshakeError(f"server hello must be {expected} bytes, got {len(record)}")
        version = record[1]
        lo, hi = SUPPORTED_VERSIONS
        if not lo <= version <= hi:
            raise HandshakeError(f"the host chose version {version}, which was not offered")
        pos = 2
        spake_message = record[pos : pos + SPAKE_MESSAGE_SIZE]
        pos += SPAKE_MESSAGE_SIZE
        peer_public = record[pos : pos + X25519_SIZE]
        body, mac = record[:-MAC_SIZE], record[-MAC_SIZE:]
        pake_key = _spake_finish(self._spake, spake_message)
        transcript = _sha256(self.client_hello, body)
        master = _extract(transcript, pake_key + _x25519(self._x25519, peer_public))
        if not hmac.compare_digest(mac, _mac(_expand(master, "host confirm"), transcript)):
            raise WrongCode(
                "the host's key confirmation does not match: the session code is wrong "
                "(or someone in the middle tampered with the handshake)"
            )
        confirm = bytes([RECORD_CONFIRM]) + _mac(
            _expand(master, "viewer confirm"), _sha256(self.client_hello, record)
        )
        return version, _derive(master), confirm


class HostHandshake:
    """The host's side of the full handshake (it answers)."""

    def __init__(self, routing_id: bytes, secret: bytes) -> None:
        self._routing_id = routing_id
        id_a, id_b = _identities(routing_id)
        self._spake = SPAKE2_B(secret, idA=id_a, idB=id_b)
        self._spake_message: bytes = bytes(self._spake.start())
        self._x25519 = X25519PrivateKey.generate()
        self._confirm_key = b""
        self._confirm_transcript = b""
        self._master = b""

    @staticmethod
    def parse_version_range(record: bytes) -> tuple[int, int]:
        """The (lowest, highest) versions a client hello offers. Raises HandshakeError if cut short."""
        if len(record) < 4:
            raise HandshakeError("client hello cut short")
        return record[1], record[2]

    def receive_client_hello(self, record: bytes, version: int) -> bytes:
        """Check the viewer's hello and return the server hello (with the host's confirmation MAC).

        Raises HandshakeError if the hello is malformed or names another routing id.
        """
        rid_len = record[3]
        expected = 4 + rid_len + SPAKE_MESSAGE_SIZE + X25519_SIZE + NONCE_SIZE
        if len(record) != expected:
            raise HandshakeError(f"client hello must be {expected} bytes, got {len(record)}")
        routing_id = record[4 : 4 + rid_len]
        if not hmac.compare_digest(routing_id, self._routing_id):
            raise HandshakeError("the viewer's hello names another routing id")
        pos = 4 + rid_len
        spake_message = record[pos : pos + SPAKE_MESSAGE_SIZE]
        pos += SPAKE_MESSAGE_SIZE
        peer_public = record[pos : pos + X25519_SIZE]
        pake_key = _spake_finish(self._spake, spake_message)
        body = (
            bytes([RECORD_SERVER_HELLO, version])
            + self._spake_message
            + self._x25519.public_key().public_bytes_raw()
            + os.urandom(NONCE_SIZE)
        )
        transcript = _sha256(record, body)
        self._master = _extract(transcript, pake_key + _x25519(self._x25519, peer_public))
        server_hello = body + _mac(_expand(self._master, "host confirm"), transcript)
        self._confirm_key = _expand(self._master, "viewer confirm")
        self._confirm_transcript = _sha256(record, server_hello)
        return server_hello

    def receive_confirm(self, record: bytes) -> SessionSecrets:
        """Check the viewer's key confirmation. Raises WrongCode if it does not match."""
        if len(record) != 1 + MAC_SIZE:
            raise HandshakeError(f"confirm must be {1 + MAC_SIZE} bytes, got {len(record)}")
        if not hmac.compare_digest(record[1:], _mac(self._confirm_key, self._confirm_transcript)):
            raise WrongCode(
                "the viewer's key confirmation does not match: the session code is wrong "
                "(or someone in the middle tampered with the handshake)"
            )
        return _derive(self._master)


def _resume_master(old: SessionSecrets, transcript: bytes) -> SessionSecrets:
    # The new secrets come from the old resume secret and both fresh nonces; the old secret is then
    # forgotten, so each resume uses keys never used before.
    return _derive(_extract(transcript, old.resume_secret), old.session_id)


_U64 = struct.Struct(">Q")


class ViewerResume:
    """The viewer's side of the resume handshake."""

    def __init__(self, secrets: SessionSecrets, received: int) -> None:
        self._secrets = secrets
        body = (
            bytes([RECORD_RESUME_HELLO]) + secrets.session_id + os.urandom(NONCE_SIZE) + _U64.pack(received)
        )
        self.resume_hello = body + _mac(_expand(secrets.resume_secret, "resume viewer hello"), body)

    def receive_accept(self, record: bytes) -> tuple[int, SessionSecrets, bytes]:
        """Check the host's resume answer. Returns (host's received count, new secrets, confirm record).

        Raises ResumeRejected if the host's proof is wrong, HandshakeError if the record is malformed.
        """
        if len(record) != 1 + NONCE_SIZE + 8 + MAC_SIZE:
            raise HandshakeError("resume accept has the wrong length")
        transcript = _sha256(self.resume_hello, record[:-MAC_SIZE])
        rs = self._secrets.resume_secret
        if not hmac.compare_digest(record[-MAC_SIZE:], _mac(_expand(rs, "resume host"), transcript)):
            raise ResumeRejected("the host could not prove it holds this session's resume secret")
        (received,) = _U64.unpack_from(record, 1 + NONCE_SIZE)
        confirm = bytes([RECORD_RESUME_CONFIRM]) + _mac(_expand(rs, "resume viewer"), transcript)
        return received, _resume_master(self._secrets, transcript), confirm


class HostResume:
    """The host's side of the resume handshake."""

    def __init__(self, secrets: SessionSecrets) -> None:
        self._secrets = secrets
        self._transcript = b""

    def receive_hello(self, record: bytes, received: int) -> tuple[int, bytes]:
        """Check the viewer's resume hello. Returns (viewer's received count, resume accept record).

        Raises ResumeRejected if it names another session or its MAC is wrong.
        """
        if len(record) != 1 + SESSION_ID_SIZE + NONCE_SIZE + 8 + MAC_SIZE:
            raise HandshakeError("resume hello has the wrong length")
        rs = self._secrets.resume_secret
        if not hmac.compare_digest(record[1 : 1 + SESSION_ID_SIZE], self._secrets.session_id):
            raise ResumeRejected("the resume hello names another session")
        if not hmac.compare_digest(
            record[-MAC_SIZE:], _mac(_expand(rs, "resume viewer hello"), record[:-MAC_SIZE])
        ):
            raise ResumeRejected("the viewer could not prove it holds this session's resume secret")
        (peer_received,) = _U64.unpack_from(record, 1 + SESSION_ID_SIZE + NONCE_SIZE)
        body = bytes([RECORD_RESUME_ACCEPT]) + os.urandom(NONCE_SIZE) + _U64.pack(received)
        self._transcript = _sha256(record, body)
        return peer_received, body + _mac(_expand(rs, "resume host"), self._transcript)

    def receive_confirm(self, record: bytes) -> SessionSecrets:
        """Check the viewer's resume proof. Raises ResumeRejected if it is wrong."""
        if len(record) != 1 + MAC_SIZE:
            raise HandshakeError("resume confirm has the wrong length")
        expected = _mac(_expand(self._secrets.resume_secret, "resume viewer"), self._transcript)
        if not hmac.compare_digest(record[1:], expected):
            raise ResumeRejected("the viewer could not prove it holds this session's resume secret")
        return self.next_secrets()

    def next_secrets(self) -> SessionSecrets:
        """The secrets this resume leads to (known once the hello is answered, adopted once confirmed)."""
        return _resume_master(self._secrets, self._transcript)


class _Direction:
    """The keys of one direction: a traffic secret, its epoch, and the record counter under it."""

    def __init__(self, secret: bytes) -> None:
        self.epoch = 0
        self._install(secret)

    def _install(self, secret: bytes) -> None:
        self._secret = secret
        self._aead = ChaCha20Poly1305(_expand(secret, "key"))
        self._iv = int.from_bytes(_expand(secret, "iv", 12), "big")
        self.counter = 0
        self.bytes = 0

    def key_update(self) -> None:
        """Move to the next key (the old one cannot be recomputed from the new one)."""
        self.epoch += 1
        self._install(_expand(self._secret, "key update"))

    def nonce(self, counter: int) -> bytes:
        return (self._iv ^ counter).to_bytes(12, "big")

    def header(self, epoch: int) -> bytes:
        return bytes([RECORD_SEALED]) + struct.pack(">I", epoch & 0xFFFFFFFF)


class Sealer(_Direction):
    """Seals outgoing records."""

    def seal(self, plaintext: bytes) -> bytes:
        """One sealed record for ``plaintext``."""
        header = self.header(self.epoch)
        record = header + self._aead.encrypt(self.nonce(self.counter), plaintext, header)
        self.counter += 1
        self.bytes += len(plaintext)
        return record


class Opener(_Direction):
    """Opens incoming records, in order."""

    def open(self, record: bytes) -> bytes:
        """The plaintext of the next sealed record.

        Raises FramingError if the record is too short, ReplayError / ReorderError when the record is one
        sealed before / after the one expected, IntegrityError for any other authentication failure.
        """
        if len(record) < SEALED_HEADER_SIZE + TAG_SIZE:
            raise FramingError(f"sealed record of {len(record)} bytes is shorter than header and tag")
        (epoch,) = struct.unpack_from(">I", record, 1)
        if epoch != self.epoch & 0xFFFFFFFF:
            kind = ReplayError if epoch < self.epoch else ReorderError
            raise kind(f"record sealed under key epoch {epoch}, expected epoch {self.epoch}")
        header, ciphertext = record[:SEALED_HEADER_SIZE], record[SEALED_HEADER_SIZE:]
        try:
            plaintext = self._aead.decrypt(self.nonce(self.counter), ciphertext, header)
        except InvalidTag:
            raise self._diagnose(header, ciphertext) from None
        self.counter += 1
        self.bytes += len(plaintext)
        return plaintext

    def _diagnose(self, header: bytes, ciphertext: bytes) -> IntegrityError:
        # The session ends either way; trying the neighbouring counters only makes the message precise.
        for delta in range(1, DIAGNOSE_WINDOW + 1):
            for counter, kind in ((self.counter - delta, ReplayError), (self.counter + delta, ReorderError)):
                if counter < 0:
                    continue
                try:
                    self._aead.decrypt(self.nonce(counter), ciphertext, header)
                except InvalidTag:
                    continue
                if kind is ReplayError:
                    return ReplayError(
                        f"record #{counter} arrived again (expected #{self.counter}): a replay"
                    )
                return ReorderError(
                    f"record #{counter} arrived where #{self.counter} was expected: records were dropped "
                    "or reordered"
                )
        return IntegrityError(
            f"record #{self.counter} failed authentication: it was altered, cut short or forged"
        )
