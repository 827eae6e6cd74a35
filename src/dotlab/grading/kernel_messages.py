"""Which messages the grader accepts from a learner's Jupyter kernel: an allowlist of shapes.

Learner code runs inside the kernel, which holds the session's signing key: it can send
the grader any message it likes, signed, on any channel (``get_ipython().kernel.session``).
nbclient trusts what it reads (``content["execution_state"]``, ``len(content["text"])``,
``transient.get(...)``, ``cell["execution_count"] = content["execution_count"]``), so one
malformed message raised in the grader and nbgrader gave up on the whole notebook.

Every message the grader reads from the kernel is checked here first
(:class:`CheckedChannel` is the channel class of the grader's kernel client): only the
message types grading needs, each with the fields the Jupyter messaging protocol gives
it and the types it gives them
(https://jupyter-client.readthedocs.io/en/stable/messaging.html); anything else is dropped
before nbclient sees it, and counted for the instructor. No test cell is decided by kernel
output (the sandbox decides them: :mod:`dotlab.grading.sandbox`), so what a well-formed
forged message can do is change a learner cell's own outputs, which score nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from jupyter_client.channels import AsyncZMQSocketChannel

log = logging.getLogger(__name__)

__all__ = ["CheckedChannel", "problem"]

_STR, _INT, _BOOL, _DICT, _LIST = str, int, bool, dict, list
_OPTIONAL_INT = (int, type(None))
# msg_type -> {field: type}: the fields nbclient reads, with the protocol's types
_OUTPUT = {"data": _DICT, "metadata": _DICT}
_SHAPES: dict[str, dict[str, Any]] = {
    "status": {"execution_state": _STR},
    "execute_input": {"code": _STR},
    "stream": {"name": _STR, "text": _STR},
    "display_data": _OUTPUT,
    "update_display_data": _OUTPUT,
    "execute_result": {**_OUTPUT, "execution_count": _OPTIONAL_INT},
    "error": {"ename": _STR, "evalue": _STR, "traceback": _LIST},
    "clear_output": {"wait": _BOOL},
    "execute_reply": {"status": _STR},
    "kernel_info_reply": {},
    "shutdown_reply": {},
    "interrupt_reply": {},
}
# well-formed messages grading has no use for, dropped without a word: widgets' comms (their state
# would land in the graded notebook's metadata), the debugger's events
# and the welcome a subscriber gets on IOPub (ipykernel 7, JEP 65)
SILENTLY_DROPPED = {"comm_open", "comm_msg", "comm_close", "debug_event", "iopub_welcome"}
_STATES = {"busy", "idle", "starting", "restarting", "dead"}
_STREAMS = {"stdout", "stderr"}
_REPLY_STATUS = {"ok", "error", "aborted"}


def _mime_bundle(data: dict) -> str | None:
    """A display's ``data``: mimetype -> text, lines of text, or (JSON mimetypes) a dict or list."""
    for key, value in data.items():
        if not isinstance(key, str):
            return "a mimetype that is not a string"
        if isinstance(value, list) and not all(isinstance(line, str) for line in value):
            return f"{key} holds a list that is not lines of text"
        if not isinstance(value, (str, list, dict)):
            return f"{key} holds a {type(value).__name__}"
    return None


def problem(msg: Any) -> str | None:
    """Why ``msg`` is not a message the grader accepts from a kernel, or None if it is.

    Examples
    --------
    >>> ok = {"header": {"msg_type": "stream", "msg_id": "1"}, "parent_header": {"msg_id": "0"},
    ...       "metadata": {}, "content": {"name": "stdout", "text": "hi"}}
    >>> problem(ok) is None
    True
    >>> problem({**ok, "content": {"name": "stdout", "text": 12345}})
    'stream: content["text"] is a int, not a str'
    >>> problem({**ok, "header": {"msg_type": "comm_open", "msg_id": "2"}})
    'comm_open: a message type grading does not use'
    """
    if not isinstance(msg, dict):
        return "not a message"
    header, parent, content = msg.get("header"), msg.get("parent_header"), msg.get("content")
    if not isinstance(header, dict) or not isinstance(header.get("msg_type"), str):
        return "a header without a message type"
    kind = header["msg_type"]
    if msg.get("msg_type", kind) != kind:
        return f"{kind}: two message types"
    if kind not in _SHAPES:
        return f"{kind[:60]}: a message type grading does not use"
    if not isinstance(parent, dict) or not isinstance(parent.get("msg_id", ""), str):
        return f"{kind}: a parent header without a message id"
    if not isinstance(content, dict) or not isinstance(msg.get("metadata", {}), dict):
        return f"{kind}: content or metadata that is not a dict"
    for name, expected in _SHAPES[kind].items():
        value = content.get(name)
        # bool is an int in Python: a count or a flag must be exactly what the protocol says
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not _BOOL):
            wanted = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
            return f'{kind}: content["{name}"] is a {type(value).__name__}, not a {wanted}'
    count = content.get("execution_count")  # nbclient writes any content's count into the cell
    if "execution_count" in content and (isinstance(count, bool) or not isinstance(count, _OPTIONAL_INT)):
        return f"{kind}: an execution count that is not a number"
    transient = content.get("transient")
    if transient is not None and not (isinstance(transient, dict)
                                      and isinstance(transient.get("display_id", ""), str)):
        return f"{kind}: a display id that is not a string"
    if kind == "status" and content["execution_state"] not in _STATES:
        return f"status: an execution state {content['execution_state'][:40]!r} the protocol does not have"
    if kind == "stream" and content["name"] not in _STREAMS:
        return f"stream: a stream named {content['name'][:40]!r}"
    if kind == "error" and not all(isinstance(line, str) for line in content["traceback"]):
        return "error: a traceback that is not lines of text"
    if kind == "execute_reply" and content["status"] not in _REPLY_STATUS:
        return f"execute_reply: a status {content['status'][:40]!r} the protocol does not have"
    if kind == "execute_reply" and content["status"] == "error" and not (
            isinstance(content.get("ename"), str) and isinstance(content.get("evalue"), str)
            and isinstance(content.get("traceback"), list)):  # nbgrader reads all three
        return "execute_reply: an error without its name, message and traceback"
    if "data" in _SHAPES[kind]:
        why = _mime_bundle(content["data"])
        if why:
            return f"{kind}: {why}"
    return None


class CheckedChannel(AsyncZMQSocketChannel):
    """A kernel channel that hands the grader only messages :func:`problem` accepts.

    A message that cannot be decoded or has a shape the protocol does not give it is
    dropped; ``dropped`` counts them and ``reasons`` keeps the first few, for the log and
    the learner's grading record.
    """

    KEPT_REASONS = 5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dropped = 0
        self.reasons: list[str] = []

    async def _recv(self, **kwargs) -> dict[str, Any] | None:
        try:
            msg = await super()._recv(**kwargs)
        except Exception as exc:  # noqa: BLE001 - bytes that are no message of the protocol at all
            return self._drop(f"a message that could not be decoded ({type(exc).__name__})")
        if isinstance(msg, dict) and msg.get("msg_type") in SILENTLY_DROPPED:
            return None
        why = problem(msg)
        return msg if why is None else self._drop(why)

    def _drop(self, why: str) -> None:
        self.dropped += 1
        if len(self.reasons) < self.KEPT_REASONS:
            self.reasons.append(why)
            log.warning("dropped a malformed message from a learner's kernel: %s", why)
        return None

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next accepted message; ``queue.Empty`` if none came within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            msg = await super().get_msg(left)
            if msg is not None:
                return msg
