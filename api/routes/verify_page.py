"""The public verification page a printed certificate's QR code opens.

``GET /verify/{code}`` answers a person holding a certificate: is this credential real and in
good standing? The verification code alone is the key here, by design of printed
certificates (65 random bits, so codes cannot be guessed), and the page shows only what the
certificate itself prints, plus its standing:

- the status (active, suspended, revoked, expired), in words;
- the credential's name and code, the holder's name as printed, the dates of issue and expiry.

Never the registry number, contact details, scores, other credentials, the school, or why a
credential was suspended or revoked. Employers that need more verify through the API with the
family name (``verifyCredential``), which is logged for the candidate; this page is not,
because no organization is known. An unknown or mistyped code answers 404 with the same page
whatever the reason. The URL carries the code, so the page forbids referrers, caching and
indexing.

``GET /verify/{code}/qr.png`` is the QR code of the page's canonical URL.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import segno
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from api.context import Resources
from db import models
from db.events.open_badges import ISSUER_NAME, Urls
from db.registry.codes import normalize_code
from db.registry.credentials import effective_status

QR_SCALE = 8
QR_BORDER = 4
STATUS_WORDS = {
    "ACTIVE": ("Active", "This credential is valid."),
    "SUSPENDED": ("Suspended", "This credential is suspended and is not valid at present."),
    "REVOKED": ("Revoked", "This credential has been revoked and is not valid."),
    "EXPIRED": ("Expired", "This credential has expired and is no longer valid."),
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f5f5f2;color:#1a1a1a;line-height:1.5}
main{max-width:36rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px}
h1{font-size:1.4rem;margin-top:0}
.status{font-size:1.2rem;font-weight:700;padding:.6rem .8rem;border-radius:6px;border:2px solid}
.ACTIVE{color:#0b5d1e;background:#e7f6ea}.SUSPENDED{color:#7a4a00;background:#fff4de}
.REVOKED,.EXPIRED,.UNKNOWN{color:#8a1111;background:#fde8e8}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{font-weight:600}
dd{margin:0}img{display:block;margin-top:1rem;width:10rem;height:10rem}
footer{font-size:.85rem;color:#555;margin-top:1.5rem}
""".strip()
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True, slots=True)
class Found:
    code: str
    status: str
    credential_name: str
    credential_code: str
    holder: str
    issued_at: datetime
    expires_at: datetime | None


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def _find(resources: Resources, raw_code: str) -> Found | None:
    code = normalize_code(raw_code)
    if code is None:
        return None
    async with resources.sessionmaker() as session:
        row = (
            await session.execute(
                select(models.Credential, models.Candidate)
                .join(models.Candidate, models.Candidate.id == models.Credential.candidate_id)
                .where(models.Credential.verification_code == code)
            )
        ).first()
    if row is None:
        return None
    credential, candidate = row
    catalog = await resources.catalog.snapshot(credential.catalog_version_id)
    ctype = catalog.credential_type_by_id(credential.credential_type_id)
    return Found(
        code=code,
        status=effective_status(credential, datetime.now(UTC)),
        credential_name=ctype.name if ctype else "Credential",
        credential_code=ctype.code if ctype else "",
        holder=f"{candidate.given_name} {candidate.family_name}",
        issued_at=credential.issued_at,
        expires_at=credential.expires_at,
    )


def _day(moment: datetime) -> str:
    day = moment.astimezone(UTC).date()
    return f'<time datetime="{day.isoformat()}">{day.day} {day:%B %Y}</time>'


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{html.escape(title)} · {ISSUER_NAME}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n"
        f"<footer>Issued by the {ISSUER_NAME}. This page shows what the certificate states "
        "and whether it is in good standing today.</footer>\n</main>\n</body>\n</html>\n"
    )


def render_found(found: Found, qr_url: str) -> str:
    label, sentence = STATUS_WORDS[found.status]
    expiry = _day(found.expires_at) if found.expires_at else "Does not expire"
    expiry_term = "Expired" if found.status == "EXPIRED" else "Valid until"
    body = (
        "<h1>Credential verification</h1>\n"
        f'<p class="status {found.status}" role="status">'
        f"<span>Status: {label}.</span> {sentence}</p>\n"
        "<dl>\n"
        f"<dt>Credential</dt><dd>{html.escape(found.credential_name)} "
        f"({html.escape(found.credential_code)})</dd>\n"
        f"<dt>Holder</dt><dd>{html.escape(found.holder)}</dd>\n"
        f"<dt>Issued</dt><dd>{_day(found.issued_at)}</dd>\n"
        f"<dt>{expiry_term}</dt><dd>{expiry}</dd>\n"
        f"<dt>Verification code</dt><dd><code>{html.escape(found.code)}</code></dd>\n"
        "</dl>\n"
        f'<img src="{html.escape(qr_url)}" alt="QR code that opens this page">'
    )
    return _page(f"{label}: {found.credential_name}", body)


def render_unknown() -> str:
    body = (
        "<h1>Credential verification</h1>\n"
        '<p class="status UNKNOWN" role="status">No credential matches this code.</p>\n'
        "<p>Check the code printed on the certificate: letters and digits, in groups of four. "
        "The letters I, L and O read as 1, 1 and 0.</p>"
    )
    return _page("No credential matches this code", body)


async def verify_page(request: Request) -> Response:
    resources = _resources(request)
    found = await _find(resources, request.path_params["code"])
    if found is None:
        return HTMLResponse(render_unknown(), status_code=404, headers=HEADERS)
    return HTMLResponse(render_found(found, f"/verify/{found.code}/qr.png"), headers=HEADERS)


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


async def verify_qr(request: Request) -> Response:
    resources = _resources(request)
    found = await _find(resources, request.path_params["code"])
    if found is None:
        return Response(status_code=404, headers=HEADERS)
    url = Urls(resources.settings.issuer).verify_page(found.code)
    return Response(qr_png(url), media_type="image/png", headers=HEADERS)


def verify_routes() -> list[BaseRoute]:
    return [
        Route("/verify/{code}", verify_page, methods=["GET"]),
        Route("/verify/{code}/qr.png", verify_qr, methods=["GET"]),
    ]
