"""``gateway sign``: the headers a vendor would send with a body, signature included, for trying sources with curl."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from adapters import ADAPTERS
from adapters.base import SchemeSettings
from adapters.signatures import SOURCE_SCHEMES
from gateway.commands import EXIT_OK, EXIT_USAGE, Command

__all__ = ["COMMAND"]


def _configure(parser: argparse.ArgumentParser) -> None:
    signer = parser.add_mutually_exclusive_group(required=True)
    signer.add_argument("--provider", help="a vendor with its own signature scheme")
    signer.add_argument("--scheme", choices=sorted(SOURCE_SCHEMES),
                        help="a scheme any source may choose as its auth (its secret as configured: whsec_...)")
    parser.add_argument("--secret", required=True, help="the signing secret configured for the source")
    parser.add_argument("--notification-url", help="the public URL the vendor signs (its source's notification_url; "
                        "Square needs it)")
    parser.add_argument("file", type=Path, help="the body to sign, byte for byte")


def _run(args: argparse.Namespace) -> int:
    if args.scheme is not None:
        try:
            scheme = SOURCE_SCHEMES[args.scheme](SchemeSettings(secrets=(args.secret.encode(),), tolerance_s=0))
        except ValueError as exc:  # a secret the scheme cannot read (SecretFormatError)
            print(f"gateway sign: --secret: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return _print(scheme.sign(args.file.read_bytes(), time.time()))
    adapter = ADAPTERS.get(args.provider)
    if adapter is None or adapter.signature is None:
        signed = sorted(name for name, found in ADAPTERS.items() if found.signature is not None)
        print(f"gateway sign: {args.provider!r} has no signature scheme (these do: {', '.join(signed)})",
              file=sys.stderr)
        return EXIT_USAGE
    if adapter.needs_notification_url and not args.notification_url:
        print(f"gateway sign: {args.provider} signs the URL it posts to: pass --notification-url "
              "(the source's notification_url)", file=sys.stderr)
        return EXIT_USAGE
    body = args.file.read_bytes()
    settings = SchemeSettings(secrets=(args.secret.encode(),), tolerance_s=0, notification_url=args.notification_url)
    headers = adapter.signature(settings).sign(body, time.time())
    if adapter.delivery_headers is not None:
        headers.update(adapter.delivery_headers(body, str(uuid.uuid4())))  # a new delivery each time
    return _print(headers)


def _print(headers: dict[str, str]) -> int:
    for name, value in headers.items():
        print(f"{name}: {value}")
    return EXIT_OK


COMMAND = Command("sign", "print the signature headers a vendor would send with a body", _configure, _run)
