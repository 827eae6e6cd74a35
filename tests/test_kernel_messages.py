"""The messages the grader accepts from a learner's kernel (dotlab.grading.kernel_messages).

Learner code in the kernel can sign any message with the kernel's own key. Each test
below is a message such code could send: the well-formed ones of every type grading uses
pass, and every malformed one that nbclient or nbgrader would have tripped over (and
failed the whole notebook on) is refused with its reason. The real round trip, a
notebook forging them in its kernel, is the ``forged_messages`` hostile notebook.
"""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.session import Session

from dotlab.grading.kernel_messages import CheckedChannel, problem


def _msg(msg_type: str, content, **extra) -> dict:
    return {"header": {"msg_type": msg_type, "msg_id": "m1"}, "msg_type": msg_type, "parent_header": {"msg_id": "p0"},
            "metadata": {}, "content": content, **extra}


WELL_FORMED = [
    _msg("status", {"execution_state": "idle"}),
    _msg("execute_input", {"code": "1 + 1", "execution_count": 1}),
    _msg("stream", {"name": "stderr", "text": "warning\n"}),
    _msg("display_data", {"data": {"text/plain": "x", "image/png": "iVBOR", "application/json": {"a": [1]}},
                          "metadata": {}, "transient": {"display_id": "d1"}}),
    _msg("update_display_data", {"data": {"text/plain": ["two ", "lines"]}, "metadata": {},
                                 "transient": {"display_id": "d1"}}),
    _msg("execute_result", {"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 1}),
    _msg("error", {"ename": "ValueError", "evalue": "bad", "traceback": ["ValueError: bad"]}),
    _msg("clear_output", {"wait": True}),
    _msg("execute_reply", {"status": "ok", "execution_count": 2}),
    _msg("execute_reply", {"status": "error", "ename": "E", "evalue": "", "traceback": []}),
    _msg("kernel_info_reply", {"status": "ok", "language_info": {"name": "python"}}),
]

MALFORMED = {
    "text that is not a string": (_msg("stream", {"name": "stdout", "text": 12345}), 'content["text"] is a int'),
    "a stream of its own": (_msg("stream", {"name": "stdin", "text": "x"}), "a stream named 'stdin'"),
    "data that is not a dict": (_msg("display_data", {"data": "x", "metadata": {}}), 'content["data"] is a str'),
    "a mime value that is a number": (_msg("display_data", {"data": {"text/plain": 3}, "metadata": {}}),
                                      "text/plain holds a int"),
    "metadata that is a list": (_msg("execute_result", {"data": {}, "metadata": [], "execution_count": 1}),
                                'content["metadata"] is a list'),
    "a count that is text": (_msg("execute_input", {"code": "", "execution_count": "one"}),
                             "an execution count that is not a number"),
    "a count that is a flag": (_msg("execute_result", {"data": {}, "metadata": {}, "execution_count": True}),
                               'content["execution_count"] is a bool'),
    "an error without a name": (_msg("error", {"ename": None, "evalue": "", "traceback": []}),
                                'content["ename"] is a NoneType'),
    "a traceback of numbers": (_msg("error", {"ename": "E", "evalue": "", "traceback": [1]}),
                               "a traceback that is not lines of text"),
    "a wait that is text": (_msg("clear_output", {"wait": "maybe"}), 'content["wait"] is a str'),
    "a display id that is a number": (_msg("display_data", {"data": {}, "metadata": {}, "transient": {"display_id": 7}}),
                                      "a display id that is not a string"),
    "a state the protocol lacks": (_msg("status", {"execution_state": "done"}), "an execution state 'done'"),
    "a status without a state": (_msg("status", {}), 'content["execution_state"] is a NoneType'),
    "an error reply without its name": (_msg("execute_reply", {"status": "error"}), "an error without its name"),
    "a reply status of its own": (_msg("execute_reply", {"status": "great"}), "a status 'great'"),
    "content that is a list": (_msg("stream", ["x"]), "content or metadata that is not a dict"),
    "a parent id that is a number": ({**_msg("stream", {"name": "stdout", "text": ""}), "parent_header": {"msg_id": 1}},
                                     "a parent header without a message id"),
    "a type of its own": (_msg("made_up_type", {}), "made_up_type: a message type grading does not use"),
    "two types": ({**_msg("stream", {"name": "stdout", "text": ""}), "msg_type": "status"}, "two message types"),
    "no header": ({"content": {}}, "a header without a message type"),
    "not a message": ([1, 2], "not a message"),
}


@pytest.mark.parametrize("msg", WELL_FORMED, ids=lambda m: m["msg_type"])
def test_every_message_type_grading_uses_passes_when_well_formed(msg):
    assert problem(msg) is None


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_message_is_refused_with_its_reason(name):
    msg, reason = MALFORMED[name]
    assert reason in (problem(msg) or ""), problem(msg)


def test_a_channel_drops_malformed_and_undecodable_messages_and_counts_them():
    """Over a real ZeroMQ pair, signed with the session's key as learner code in the kernel would."""

    async def exchange():
        context = zmq.asyncio.Context()
        session = Session(key=b"the-kernels-key")
        kernel_side, grader_side = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
        kernel_side.bind("inproc://iopub")
        grader_side.connect("inproc://iopub")
        channel = CheckedChannel(grader_side, session)
        try:
            session.send(kernel_side, "stream", {"name": "stdout", "text": 5})  # malformed
            session.send(kernel_side, "comm_open", {"comm_id": "c", "target_name": "t", "data": {}})  # unused
            await kernel_side.send_multipart([b"<IDS|MSG>", b"not", b"a", b"message"])  # undecodable
            session.send(kernel_side, "stream", {"name": "stdout", "text": "kept"})
            kept = await channel.get_msg(timeout=5)
            with pytest.raises(Empty):
                await channel.get_msg(timeout=0.2)
            return kept, channel.dropped, channel.reasons
        finally:
            kernel_side.close(linger=0)
            grader_side.close(linger=0)
            context.term()

    kept, dropped, reasons = asyncio.run(exchange())
    assert kept["content"]["text"] == "kept"
    assert dropped == 2  # the comm message is dropped without being counted: it is well-formed, just unused
    assert 'content["text"] is a int' in reasons[0] and "could not be decoded" in reasons[1]
