"""Signing with GnuPG from the environment: .rpm headers (rpmsign), repomd.xml, Release, and the exported key.

The key is named on the command line (``--key-id``) or by ``PKGTOOL_GPG_KEY``, and read
from the keyring of ``GNUPGHOME``; a map never holds keys.  gpg always runs with
``--batch --pinentry-mode loopback``, so it never prompts: a key that needs a passphrase
the agent does not already hold fails with gpg's message.

Signatures are made at a fixed time, SOURCE_DATE_EPOCH (or the key's creation, when that
is later: a signature older than its key is invalid), with the digest fixed to SHA-512.
RSA and EdDSA signatures are then byte-identical run after run; DSA and ECDSA ones draw
a random number each time, so with such a key only the signature files differ.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..atomic import temp_dir
from ..errors import SigningError, ToolError
from ..formats.tools import run_tool

KEY_ENV = "PKGTOOL_GPG_KEY"
DIGEST = "SHA512"


@dataclass(frozen=True)
class Signer:
    """One secret key found in the keyring, and the time every signature carries."""

    key_id: str  # as the user named it
    fingerprint: str  # of the primary key
    sign_time: int
    gpg: str  # the gpg binary

    @property
    def long_id(self) -> str:
        return self.fingerprint[-16:]

    def _base(self) -> list[str]:
        # '!' freezes the clock, so two signatures of the same bytes carry the same time.
        return [
            self.gpg,
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--no-tty",
            "--faked-system-time",
            f"{self.sign_time}!",
            "--digest-algo",
            DIGEST,
            "--local-user",
            self.fingerprint,
        ]

    def detach_sign(self, path: Path, out: Path) -> None:
        """An armored detached signature of ``path`` (repomd.xml.asc, Release.gpg)."""
        _gpg([*self._base(), "--armor", "--detach-sign", "--output", str(out), str(path)], self.key_id)

    def clearsign(self, path: Path, out: Path) -> None:
        """``path`` clearsigned (InRelease)."""
        _gpg([*self._base(), "--clearsign", "--output", str(out), str(path)], self.key_id)

    def export_public(self, out: Path) -> None:
        """The public key, armored, for users to import (RPM-GPG-KEY-..., apt's signed-by)."""
        _gpg([self.gpg, "--batch", "--armor", "--export", "--output", str(out), self.fingerprint], self.key_id)
        if not out.is_file() or out.stat().st_size == 0:
            raise SigningError(f"gpg exported nothing for key {self.key_id!r}")

    def sign_rpms(self, paths: Sequence[Path]) -> None:
        """Add a header signature to each .rpm, in place (they are the output's copies, never the inputs)."""
        if not paths:
            return
        if shutil.which("rpmsign") is None:
            raise ToolError("rpmsign is not installed (Debian package rpm); it signs the .rpm packages")
        extra = f"--batch --pinentry-mode loopback --no-tty --faked-system-time {self.sign_time}!"
        cmd = [
            "rpmsign",
            "--define",
            f"__gpg {self.gpg}",
            "--define",
            f"_gpg_name {self.fingerprint}",
            "--define",
            f"_gpg_digest_algo {DIGEST.lower()}",
            "--define",
            f"_gpg_sign_cmd_extra_args {extra}",
            "--addsign",
            *[str(p) for p in paths],
        ]
        todo = list(paths)
        # Now and then (seen 1 in ~12 runs under load) one signature of an rpmsign run carries the
        # real clock instead of the frozen time: each is checked, and a stray one is made again from
        # the unsigned bytes (a --delsign'd package is not byte for byte the unsigned one).
        with temp_dir(prefix=".pkgtool-unsigned-", dir=todo[0].parent) as kept:
            keep = Path(kept)
            unsigned = {p: keep / f"{i}.rpm" for i, p in enumerate(todo)}
            for p, copy in unsigned.items():
                shutil.copyfile(p, copy)
            for _ in range(3):
                try:
                    run_tool([*cmd[: -len(paths)], *[str(p) for p in todo]], env={"LC_ALL": "C"})
                except ToolError as exc:
                    raise SigningError(
                        f"rpmsign could not sign with key {self.key_id!r}: {exc}", hint=_tail(exc.output)
                    ) from None
                todo = [p for p in todo if _signed_at(p) != self.sign_time]
                if not todo:
                    return
                for p in todo:
                    shutil.copyfile(unsigned[p], p)
        raise SigningError(f"rpmsign signed {todo[0].name} at another time than {self.sign_time} (three times)")


def find_signer(key_id: str | None, epoch: int) -> Signer:
    """The secret key ``key_id`` (or $PKGTOOL_GPG_KEY) of $GNUPGHOME's keyring; SigningError naming it if absent.

    Its signatures carry ``epoch`` (SOURCE_DATE_EPOCH, else the clock), or the key's creation if later.
    """
    key_id = key_id or os.environ.get(KEY_ENV, "")
    if not key_id:
        raise SigningError(f"--sign needs a key: pass --key-id ID or set {KEY_ENV}")
    if key_id.startswith("-") or any(c in key_id for c in "\n\r\0"):
        raise SigningError(f"key id {key_id!r} is not a key id, fingerprint or user id")
    gpg = shutil.which("gpg")
    if gpg is None:
        raise ToolError("gpg is not installed (Debian package gpg); --sign needs it")
    home = os.environ.get("GNUPGHOME", "~/.gnupg")
    try:
        listing = run_tool([gpg, "--batch", "--with-colons", "--list-secret-keys", "--", key_id], timeout=60)
    except ToolError:
        raise SigningError(
            f"no secret key {key_id!r} in the GnuPG keyring ({home})",
            hint="import the key there, or set GNUPGHOME to the keyring that holds it",
        ) from None
    keys = _secret_keys(listing)
    if len(keys) != 1:
        fprs = ", ".join(fpr for fpr, _ in keys)
        raise SigningError(
            f"key id {key_id!r} matches {len(keys)} secret keys ({fprs})" if keys else f"no secret key {key_id!r}",
            hint="name one key by its full fingerprint",
        )
    fingerprint, created = keys[0]
    return Signer(key_id, fingerprint, max(epoch, created), gpg)


def _secret_keys(listing: str) -> list[tuple[str, int]]:
    """(primary fingerprint, latest creation of its keys) for each 'sec' record of a --with-colons listing."""
    keys: list[tuple[str, int]] = []
    created = 0
    want_fpr = False
    for line in listing.splitlines():
        fields = line.split(":")
        if fields[0] in ("sec", "ssb") and len(fields) > 5 and fields[5].isdigit():
            created = int(fields[5]) if fields[0] == "sec" else max(created, int(fields[5]))
            if fields[0] == "sec":
                want_fpr = True
            if keys and fields[0] == "ssb":
                keys[-1] = (keys[-1][0], max(keys[-1][1], created))
        elif fields[0] == "fpr" and want_fpr and len(fields) > 9:
            keys.append((fields[9], created))
            want_fpr = False
    return keys


def _gpg(cmd: list[str], key_id: str) -> None:
    try:
        run_tool(cmd, env={"LC_ALL": "C"}, timeout=120)
    except ToolError as exc:
        raise SigningError(f"gpg could not use key {key_id!r}: {exc}", hint=_tail(exc.output)) from None


def _tail(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip() and "faked system time" not in line]
    return " / ".join(lines[-3:])


def _signed_at(path: Path) -> int | None:
    """The creation time of the header signature (RSAHEADER) of a signed .rpm; None when it has none."""
    out = run_tool(["rpm", "-qp", "--nosignature", "--qf", "%{RSAHEADER}", str(path)], env={"LC_ALL": "C"})
    try:
        sig = bytes.fromhex(out.strip())
    except ValueError:
        return None
    # An OpenPGP v4 signature packet: old (0x89, 2-byte length) or new format header, then
    # version 4, type, key and hash algorithms, the hashed subpackets; subpacket 2 is the creation time.
    if len(sig) < 2:
        return None
    if sig[0] & 0x40:  # new format: one, two or five length octets
        body = sig[1 + (1 if sig[1] < 192 else 2 if sig[1] < 224 else 5) :]
    elif sig[0] & 3 != 3:  # old format: one, two or four length octets
        body = sig[1 + (1, 2, 4)[sig[0] & 3] :]
    else:
        return None
    if len(body) < 6 or body[0] != 4:
        return None
    end = 6 + int.from_bytes(body[4:6], "big")
    i = 6
    while i < min(end, len(body)):
        n = body[i]
        i += 1
        if n >= 192:
            n = ((n - 192) << 8) + body[i] + 192
            i += 1
        if n and body[i] & 0x7F == 2 and n == 5:
            return int.from_bytes(body[i + 1 : i + 5], "big")
        i += n
    return None
