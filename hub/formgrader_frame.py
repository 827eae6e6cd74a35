"""Let JupyterLab's Formgrader panel show the formgrader: the one exception to the hub's no-framing rule.

JupyterHub 4.1 and later send ``Content-Security-Policy: frame-ancestors 'none'`` from
every single-user server, so no page can show it in a frame. nbgrader's Formgrader panel
*is* a frame (an iframe in JupyterLab, of ``/user/<instructor>/formgrader``), so on the
hub it stays blank (nbgrader #1870, #1910, #1919). nbgrader 0.9.5 took back its own fix
(``frame-ancestors 'self'`` on all of its pages, nbgrader #1915 reverted by #1947)
because JupyterHub's security notes call ``'self'`` unsafe on a hub that serves every
user from one origin.

This server extension, loaded only by the instructor's server (hub/course_hub.py writes
the settings), changes that one directive to ``frame-ancestors 'self'`` and only on the
formgrader's own paths (``<base_url>formgrader`` and below): JupyterLab, the contents
and kernels APIs, files and every learner's server keep JupyterHub's ``'none'``. Why
that is acceptable, and when to use per-user subdomains instead, is in the instructor's
guide ("On a shared JupyterHub").

A Tornado output transform does it, because it sees each response's headers after the
handler set them (jupyter_server sets the policy in every handler's default headers,
from one server-wide setting, and nbgrader's handlers have no setting of their own).
"""

from __future__ import annotations

from tornado.web import OutputTransform

FRAMED_BY = "frame-ancestors 'self'"


def with_frame_ancestors(policy: str | None, directive: str = FRAMED_BY) -> str:
    """``policy`` with its frame-ancestors directive replaced by ``directive`` (others kept).

    >>> with_frame_ancestors("frame-ancestors 'none'; report-uri /r")
    "frame-ancestors 'self'; report-uri /r"
    >>> with_frame_ancestors(None)
    "frame-ancestors 'self'"
    """
    kept = [part.strip() for part in (policy or "").split(";")
            if part.strip() and part.split()[0].lower() != "frame-ancestors"]
    return "; ".join([directive, *kept])


def formgrader_transform(base_url: str) -> type[OutputTransform]:
    """An output transform that lets the formgrader's pages under ``base_url`` be framed by their origin."""
    prefix = base_url.rstrip("/") + "/formgrader"

    class FormgraderFramedBySelf(OutputTransform):
        def __init__(self, request):
            super().__init__(request)
            path = request.path
            self.ours = path == prefix or path.startswith(prefix + "/")

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if self.ours:
                headers["Content-Security-Policy"] = with_frame_ancestors(headers.get("Content-Security-Policy"))
            return status_code, headers, chunk

    return FormgraderFramedBySelf


def _jupyter_server_extension_points():
    return [{"module": "formgrader_frame"}]


def _load_jupyter_server_extension(serverapp):
    # Tornado reads the application's transforms at each request, so adding one now
    # applies to every response from here on.
    serverapp.web_app.add_transform(formgrader_transform(serverapp.base_url))
    serverapp.log.info("formgrader_frame: %sformgrader may be framed by its own origin", serverapp.base_url)
