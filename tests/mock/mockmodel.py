#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A mock model server for pod's tests and benchmarks (Debian python3, stdlib only).

    python3 tests/mock/mockmodel.py --script FILE [--tls CERT KEY] [--log REQLOG.jsonl]

Listens on 127.0.0.1 on a free port and prints `PORT <n>` as its first line of stdout.
Serves the Anthropic Messages (POST .../messages), OpenAI Chat Completions
(POST .../chat/completions) and OpenAI Responses (POST .../responses) wires, streaming
SSE as the real APIs do, in small irregular chunks. The answer is chosen from the request
alone (the number of assistant turns it carries), so retries are safe. The script format,
the faults and the log are described in tests/mock/README.md.
"""

import argparse
import http.server
import json
import os
import random
import socket
import ssl
import sys
import threading
import time

PARENT = os.getppid()  # read first: the parent may exit while the server starts
MAX_BODY = 64 << 20  # a request body larger than this is refused with 413
LONG_LINE = 64 << 20  # the default size of the `long_line` fault
ENDLESS_SECONDS = 120  # an endless stream stops by itself after this long
STALL_SECONDS = 300  # a stall holds the connection at most this long

DEFAULT_USAGE = {
    "input_tokens": 100,
    "output_tokens": 20,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
}

ANTHROPIC_ERRORS = {
    400: ("invalid_request_error", "messages: text content blocks must be non-empty"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: {model}"),
    408: ("timeout_error", "Request timed out."),
    409: ("conflict_error", "Conflict."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}
ANTHROPIC_CONTEXT = "prompt is too long: 215000 tokens > 200000 maximum"

OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Invalid value for 'messages'."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory",
          "Country, region, or territory not supported"),
    404: ("invalid_request_error", "model_not_found",
          "The model `{model}` does not exist or you do not have access to it."),
    408: ("server_error", None, "Request timed out."),
    409: ("server_error", None, "Conflict."),
    413: ("invalid_request_error", None, "Request too large."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None,
          "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    529: ("server_error", None, "The server is overloaded."),
}
OPENAI_CONTEXT = {
    "chat": ("messages",
             "This model's maximum context length is 128000 tokens. However, your messages "
             "resulted in 215000 tokens. Please reduce the length of the messages."),
    "responses": ("input",
                  "Your input exceeds the context window of this model. Please adjust your "
                  "input and try again."),
}


class Script:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or not isinstance(doc.get("turns", []), list):
            raise ValueError(f"{path}: want an object with a list `turns`")
        self.turns = doc.get("turns", [])
        self.faults = doc.get("faults", [])
        self.usage = dict(DEFAULT_USAGE, **doc.get("usage", {}))
        self.ping = bool(doc.get("ping", False))
        self.quirks = doc.get("quirks", {})
        self.chunk = doc.get("chunk", [1, 48])
        self.chunk_delay_ms = float(doc.get("chunk_delay_ms", 0))

    def turn(self, n):
        if n < len(self.turns):
            return self.turns[n]
        return {"say": "script exhausted"}

    def fault(self, index, path):
        for f in self.faults:
            req = f.get("request")
            hit = req == index or (isinstance(req, list) and index in req)
            if hit and (not f.get("path") or path.endswith(f["path"])):
                return f
        return None


# ---------------------------------------------------------------- reading the request


def text_of(content):
    """The text of a tool result's content: a string, or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
            elif isinstance(p, str):
                parts.append(p)
        return "".join(parts)
    if content is None:
        return ""
    return json.dumps(content)


def anthropic_view(body):
    msgs = body.get("messages") or []
    turns = sum(1 for m in msgs if isinstance(m, dict) and m.get("role") == "assistant")
    last = None
    for m in msgs:
        if isinstance(m, dict) and isinstance(m.get("content"), list):
            for b in m["content"]:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    last = text_of(b.get("content"))
    return turns, last


def chat_view(body):
    msgs = body.get("messages") or []
    turns = sum(1 for m in msgs if isinstance(m, dict) and m.get("role") == "assistant")
    last = None
    for m in msgs:
        if isinstance(m, dict) and m.get("role") == "tool":
            last = text_of(m.get("content"))
    return turns, last


RESPONSE_TURNS = {}  # response id -> the assistant turns it completed (previous_response_id)
RESPONSE_LOCK = threading.Lock()


def responses_view(body):
    items = body.get("input")
    items = items if isinstance(items, list) else []
    turns, in_assistant, last = 0, False, None
    for it in items:
        if not isinstance(it, dict):
            continue
        kind = it.get("type", "message")
        assistant = kind in ("function_call", "reasoning", "local_shell_call", "custom_tool_call") or (
            kind == "message" and it.get("role") == "assistant")
        if assistant and not in_assistant:
            turns += 1
        in_assistant = assistant
        if kind in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
            last = text_of(it.get("output"))
    prev = body.get("previous_response_id")
    if prev:
        with RESPONSE_LOCK:
            turns += RESPONSE_TURNS.get(prev, 0)
    return turns, last


# ---------------------------------------------------------------- building answers


class Answer:
    """One turn of the script, resolved against the request."""

    def __init__(self, script, index, model, turn_no, last_result):
        t = script.turn(turn_no)
        say = t.get("say", "")
        if "{{last_tool_result}}" in say:
            say = say.replace("{{last_tool_result}}", last_result if last_result is not None else "")
        self.say = say
        self.thinking = t.get("thinking")
        self.calls = t.get("call", []) or []
        self.usage = dict(script.usage, **t.get("usage", {}))
        self.model = model or "mock-model"
        self.turn_no = turn_no
        self.tag = f"{index:04d}{turn_no:03d}"
        self.rng = random.Random(index * 7919 + turn_no)

    def pieces(self, s, lo=1, hi=12):
        """s cut into irregular pieces (never empty unless s is)."""
        out, i = [], 0
        while i < len(s):
            n = self.rng.randint(lo, hi)
            out.append(s[i:i + n])
            i += n
        return out or [""]

    def call_id(self, k, prefix):
        return f"{prefix}_mock{self.tag}{k:02d}"


def sse(event, data):
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return (head + f"data: {payload}\n\n").encode()


def anthropic_usage(a):
    u = a.usage
    # The API's input_tokens leave out both cache reads and cache writes; the script's
    # input_tokens (pod's neutral figure) include the writes.
    return {
        "input_tokens": max(0, u["input_tokens"] - u["cache_write_tokens"]),
        "cache_creation_input_tokens": u["cache_write_tokens"],
        "cache_read_input_tokens": u["cache_read_tokens"],
        "output_tokens": u["output_tokens"],
    }


def anthropic_blocks(a):
    blocks = []
    if a.thinking:
        blocks.append({"type": "thinking", "thinking": a.thinking,
                       "signature": "mocksig" + a.tag})
    if a.say:
        blocks.append({"type": "text", "text": a.say})
    for k, c in enumerate(a.calls):
        blocks.append({"type": "tool_use", "id": a.call_id(k, "toolu"), "name": c["tool"],
                       "input": c.get("input", {})})
    return blocks


def anthropic_message(a, content):
    return {"id": "msg_mock" + a.tag, "type": "message", "role": "assistant", "model": a.model,
            "content": content, "stop_reason": "tool_use" if a.calls else "end_turn",
            "stop_sequence": None, "usage": anthropic_usage(a)}


def anthropic_stream(a, script):
    start = anthropic_message(a, [])
    start["stop_reason"] = None
    start["usage"] = dict(anthropic_usage(a), output_tokens=1)
    yield sse("message_start", {"type": "message_start", "message": start})
    if script.ping:
        yield sse("ping", {"type": "ping"})
    for i, b in enumerate(anthropic_blocks(a)):
        if b["type"] == "thinking":
            yield sse("content_block_start", {"type": "content_block_start", "index": i,
                      "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
            for p in a.pieces(b["thinking"]):
                yield sse("content_block_delta", {"type": "content_block_delta", "index": i,
                          "delta": {"type": "thinking_delta", "thinking": p}})
            yield sse("content_block_delta", {"type": "content_block_delta", "index": i,
                      "delta": {"type": "signature_delta", "signature": b["signature"]}})
        elif b["type"] == "text":
            yield sse("content_block_start", {"type": "content_block_start", "index": i,
                      "content_block": {"type": "text", "text": ""}})
            for p in a.pieces(b["text"]):
                yield sse("content_block_delta", {"type": "content_block_delta", "index": i,
                          "delta": {"type": "text_delta", "text": p}})
        else:
            yield sse("content_block_start", {"type": "content_block_start", "index": i,
                      "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"],
                                        "input": {}}})
            args = json.dumps(b["input"]) if b["input"] else ""
            for p in a.pieces(args, 1, 9):
                yield sse("content_block_delta", {"type": "content_block_delta", "index": i,
                          "delta": {"type": "input_json_delta", "partial_json": p}})
        yield sse("content_block_stop", {"type": "content_block_stop", "index": i})
        if script.ping:
            yield sse("ping", {"type": "ping"})
    yield sse("message_delta", {"type": "message_delta",
              "delta": {"stop_reason": "tool_use" if a.calls else "end_turn", "stop_sequence": None},
              "usage": {"output_tokens": a.usage["output_tokens"]}})
    yield sse("message_stop", {"type": "message_stop"})


def chat_usage(a):
    u = a.usage
    prompt = u["input_tokens"] + u["cache_read_tokens"]
    return {"prompt_tokens": prompt, "completion_tokens": u["output_tokens"],
            "total_tokens": prompt + u["output_tokens"],
            "prompt_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
            "completion_tokens_details": {"reasoning_tokens": 0}}


def chat_chunk(a, delta, finish=None):
    return {"id": "chatcmpl-mock" + a.tag, "object": "chat.completion.chunk",
            "created": 1764806400, "model": a.model, "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def chat_stream(a, script, body):
    q = script.quirks
    yield sse(None, chat_chunk(a, {"role": "assistant", "content": "", "refusal": None}))
    if a.thinking:
        for p in a.pieces(a.thinking):
            yield sse(None, chat_chunk(a, {"reasoning": p}))
    for p in a.pieces(a.say) if a.say else []:
        yield sse(None, chat_chunk(a, {"content": p}))
    for k, c in enumerate(a.calls):
        first = {"index": k, "id": a.call_id(k, "call"), "type": "function",
                 "function": {"name": c["tool"], "arguments": ""}}
        if q.get("omit_index"):
            del first["index"]
        yield sse(None, chat_chunk(a, {"tool_calls": [first]}))
        for p in a.pieces(json.dumps(c.get("input", {})), 1, 9):
            frag = {"index": k, "function": {"arguments": p}}
            if q.get("omit_index"):
                frag = {"id": a.call_id(k, "call"), "function": {"arguments": p}}
            yield sse(None, chat_chunk(a, {"tool_calls": [frag]}))
    finish = "tool_calls" if a.calls and not q.get("finish_stop") else "stop"
    yield sse(None, chat_chunk(a, {}, finish))
    if (body.get("stream_options") or {}).get("include_usage"):
        last = chat_chunk(a, {})
        last["choices"] = []
        last["usage"] = chat_usage(a)
        yield sse(None, last)
    yield sse(None, "[DONE]")


def chat_message(a):
    msg = {"role": "assistant", "content": a.say or None, "refusal": None}
    if a.calls:
        msg["tool_calls"] = [{"id": a.call_id(k, "call"), "type": "function",
                              "function": {"name": c["tool"],
                                           "arguments": json.dumps(c.get("input", {}))}}
                             for k, c in enumerate(a.calls)]
    return {"id": "chatcmpl-mock" + a.tag, "object": "chat.completion", "created": 1764806400,
            "model": a.model, "choices": [{"index": 0, "message": msg, "logprobs": None,
                                           "finish_reason": "tool_calls" if a.calls else "stop"}],
            "usage": chat_usage(a)}


def responses_usage(a):
    u = a.usage
    inp = u["input_tokens"] + u["cache_read_tokens"]
    return {"input_tokens": inp, "input_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
            "output_tokens": u["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": inp + u["output_tokens"]}


def responses_items(a):
    items = []
    if a.thinking:
        items.append({"id": "rs_mock" + a.tag, "type": "reasoning",
                      "summary": [{"type": "summary_text", "text": a.thinking}],
                      "encrypted_content": "mockenc" + a.tag})
    if a.say:
        items.append({"id": "msg_mock" + a.tag, "type": "message", "status": "completed",
                      "role": "assistant",
                      "content": [{"type": "output_text", "text": a.say, "annotations": [],
                                   "logprobs": []}]})
    for k, c in enumerate(a.calls):
        item = {"id": f"fc_mock{a.tag}{k:02d}", "type": "function_call",
                "status": "completed", "arguments": json.dumps(c.get("input", {})),
                "call_id": a.call_id(k, "call"), "name": c["tool"]}
        if "namespace" in c:  # a tool of a namespace the request offered (Codex's MCP tools)
            item["namespace"] = c["namespace"]
        items.append(item)
    return items


def responses_object(a, status, output, usage):
    return {"id": "resp_mock" + a.tag, "object": "response", "created_at": 1764806400,
            "status": status, "error": None, "incomplete_details": None, "instructions": None,
            "model": a.model, "output": output, "parallel_tool_calls": True,
            "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
            "store": False, "temperature": 1.0, "text": {"format": {"type": "text"}},
            "tool_choice": "auto", "tools": [], "top_p": 1.0, "truncation": "disabled",
            "usage": usage, "metadata": {}}


class Seq:
    def __init__(self):
        self.n = -1

    def __call__(self, event, data):
        self.n += 1
        data = dict(type=event, sequence_number=self.n, **data)
        return sse(event, data)


def responses_item_events(a, ev, i, item):
    if item["type"] == "reasoning":
        yield ev("response.output_item.added", {"output_index": i, "item": dict(item, summary=[])})
        part = {"item_id": item["id"], "output_index": i, "summary_index": 0}
        yield ev("response.reasoning_summary_part.added",
                 dict(part, part={"type": "summary_text", "text": ""}))
        text = item["summary"][0]["text"]
        for p in a.pieces(text):
            yield ev("response.reasoning_summary_text.delta", dict(part, delta=p))
        yield ev("response.reasoning_summary_text.done", dict(part, text=text))
        yield ev("response.reasoning_summary_part.done",
                 dict(part, part={"type": "summary_text", "text": text}))
    elif item["type"] == "message":
        added = dict(item, status="in_progress", content=[])
        yield ev("response.output_item.added", {"output_index": i, "item": added})
        part = {"item_id": item["id"], "output_index": i, "content_index": 0}
        yield ev("response.content_part.added",
                 dict(part, part={"type": "output_text", "text": "", "annotations": []}))
        text = item["content"][0]["text"]
        for p in a.pieces(text):
            yield ev("response.output_text.delta", dict(part, delta=p, logprobs=[]))
        yield ev("response.output_text.done", dict(part, text=text, logprobs=[]))
        yield ev("response.content_part.done",
                 dict(part, part={"type": "output_text", "text": text, "annotations": []}))
    else:
        added = dict(item, status="in_progress", arguments="")
        yield ev("response.output_item.added", {"output_index": i, "item": added})
        for p in a.pieces(item["arguments"], 1, 9):
            yield ev("response.function_call_arguments.delta",
                     {"item_id": item["id"], "output_index": i, "delta": p})
        yield ev("response.function_call_arguments.done",
                 {"item_id": item["id"], "output_index": i, "arguments": item["arguments"]})
    yield ev("response.output_item.done", {"output_index": i, "item": item})


def responses_stream(a, script, body):
    ev = Seq()
    yield ev("response.created", {"response": responses_object(a, "in_progress", [], None)})
    yield ev("response.in_progress", {"response": responses_object(a, "in_progress", [], None)})
    items = responses_items(a)
    for i, item in enumerate(items):
        yield from responses_item_events(a, ev, i, item)
    done = responses_object(a, "completed", items, responses_usage(a))
    with RESPONSE_LOCK:
        RESPONSE_TURNS["resp_mock" + a.tag] = a.turn_no + 1
    yield ev("response.completed", {"response": done})


def overload_event(wire, a, style):
    if wire == "anthropic":
        return sse("error", {"type": "error",
                             "error": {"type": "overloaded_error", "message": "Overloaded"}})
    message = "The server is overloaded, please try again later."
    if wire == "chat":
        return sse(None, {"error": {"message": message, "type": "server_error", "param": None,
                                    "code": "overloaded"}})
    if style == "error":
        return sse("error", {"type": "error", "code": "server_is_overloaded", "message": message,
                             "param": None, "sequence_number": 1})
    failed = responses_object(a, "failed", [], None)
    failed["error"] = {"code": "server_is_overloaded", "message": message}
    return sse("response.failed", {"type": "response.failed", "sequence_number": 1,
                                   "response": failed})


def endless_start(wire, a):
    """What opens the text the endless stream goes on writing into."""
    if wire == "anthropic":
        return sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})
    if wire == "chat":
        return b""
    item = {"id": "msg_mock" + a.tag, "type": "message", "status": "in_progress",
            "role": "assistant", "content": []}
    return (sse("response.output_item.added", {"type": "response.output_item.added",
                "sequence_number": 1, "output_index": 0, "item": item}) +
            sse("response.content_part.added", {"type": "response.content_part.added",
                "sequence_number": 2, "item_id": item["id"], "output_index": 0,
                "content_index": 0, "part": {"type": "output_text", "text": "",
                                             "annotations": []}}))


def endless_event(wire, a, n):
    if wire == "anthropic":
        return sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                   "delta": {"type": "text_delta", "text": "more "}})
    if wire == "chat":
        return sse(None, chat_chunk(a, {"content": "more "}))
    return sse("response.output_text.delta", {"type": "response.output_text.delta",
               "sequence_number": n, "item_id": "msg_mock" + a.tag, "output_index": 0,
               "content_index": 0, "delta": "more ", "logprobs": []})


def error_body(wire, status, fault, model):
    context = fault.get("error") == "context_length"
    message = fault.get("message")
    if wire == "anthropic":
        kind, text = ANTHROPIC_ERRORS.get(status, ("api_error", "Error"))
        if context:
            text = ANTHROPIC_CONTEXT
        return {"type": "error", "error": {"type": kind, "message": (message or text).format(
            model=model)}, "request_id": "req_mock"}
    kind, code, text = OPENAI_ERRORS.get(status, ("server_error", None, "Error"))
    param = None
    if context:
        code = "context_length_exceeded"
        param, text = OPENAI_CONTEXT["chat" if wire == "chat" else "responses"]
    return {"error": {"message": (message or text).format(model=model), "type": kind,
                      "param": param, "code": code}}


# ---------------------------------------------------------------- the server


WIRES = (("/messages", "anthropic"), ("/chat/completions", "chat"), ("/responses", "responses"))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mockmodel/1"

    def log_message(self, fmt, *args):  # quiet: the request log is --log
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # -- reading

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                if len(data) + size > MAX_BODY:
                    return None
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def record(self, index, raw):
        srv = self.server
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        if srv.log:
            line = json.dumps({"index": index, "time": round(time.time(), 6),
                               "method": self.command, "path": self.path,
                               "headers": {k.lower(): v for k, v in self.headers.items()},
                               "body": body})
            with srv.lock:
                srv.log.write(line + "\n")
                srv.log.flush()
        return body

    # -- writing

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_mock")
        self.send_header("x-request-id", "req_mock")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_stream(self, close=False):
        self.send_response(200)
        if close:  # a fault ends the connection: no client may reuse it for the next request
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", "req_mock")
        self.send_header("x-request-id", "req_mock")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def trickle(self, data, rng):
        """Send data in irregular chunks as the script says."""
        lo, hi = self.server.script.chunk
        delay = self.server.script.chunk_delay_ms / 1000
        i = 0
        while i < len(data):
            n = rng.randint(lo, hi)
            self.chunk(data[i:i + n])
            i += n
            if delay:
                time.sleep(delay)

    # -- dispatch

    def do_GET(self):
        index = self.server.next_index()
        self.record(index, b"")
        path = self.path.split("?")[0]
        if path.endswith("/models"):
            self.send_json(200, {"object": "list", "data": [
                {"id": "mock-model", "object": "model", "created": 1764806400,
                 "owned_by": "mock", "type": "model", "display_name": "Mock"}]})
        else:
            self.send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

    def do_POST(self):
        srv = self.server
        index = srv.next_index()
        raw = self.read_body()
        if raw is None:
            self.send_json(413, {"error": {"message": "request too large"}})
            self.close_connection = True
            return
        body = self.record(index, raw)
        path = self.path.split("?")[0]
        if path.endswith("/messages/count_tokens"):
            self.send_json(200, {"input_tokens": srv.script.usage["input_tokens"]})
            return
        wire = next((w for suffix, w in WIRES if path.endswith(suffix)), None)
        if wire is None or not isinstance(body, dict):
            self.send_json(404 if wire is None else 400,
                           {"error": {"message": f"cannot serve {path}", "type": "invalid_request_error"}})
            return
        view = {"anthropic": anthropic_view, "chat": chat_view, "responses": responses_view}[wire]
        turn_no, last = view(body)
        a = Answer(srv.script, index, body.get("model"), turn_no, last)
        fault = srv.script.fault(index, path) or {}
        try:
            self.answer(wire, a, body, fault)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def answer(self, wire, a, body, fault):
        if "status" in fault:
            extra = {}
            if "retry_after" in fault:
                extra["Retry-After"] = str(fault["retry_after"])
            if "retry_after_ms" in fault:
                extra["retry-after-ms"] = str(fault["retry_after_ms"])
            self.send_json(fault["status"], error_body(wire, fault["status"], fault, a.model), extra)
            return
        if not body.get("stream"):
            self.answer_whole(wire, a)
            return
        gen = {"anthropic": lambda: anthropic_stream(a, self.server.script),
               "chat": lambda: chat_stream(a, self.server.script, body),
               "responses": lambda: responses_stream(a, self.server.script, body)}[wire]
        events = list(gen())
        kind = fault.get("kind")
        self.start_stream(close=bool(kind))
        if kind:
            self.fault_stream(wire, a, events, fault)
            return
        self.trickle(b"".join(events), a.rng)
        self.end_stream()

    def answer_whole(self, wire, a):
        if wire == "anthropic":
            self.send_json(200, anthropic_message(a, anthropic_blocks(a)))
        elif wire == "chat":
            self.send_json(200, chat_message(a))
        else:
            items = responses_items(a)
            with RESPONSE_LOCK:
                RESPONSE_TURNS["resp_mock" + a.tag] = a.turn_no + 1
            self.send_json(200, responses_object(a, "completed", items, responses_usage(a)))

    def fault_stream(self, wire, a, events, fault):
        kind = fault["kind"]
        whole = b"".join(events)
        if kind == "overload":
            self.trickle(events[0] + overload_event(wire, a, fault.get("style")), a.rng)
            self.end_stream()
        elif kind == "invalid_json":
            bad = b"event: content_block_delta\n" if wire == "anthropic" else b""
            if wire == "responses":
                bad = b"event: response.output_text.delta\n"
            self.trickle(events[0] + bad + b'data: {"type": "content_block_delta", "index": 0,\n\n',
                         a.rng)
            self.trickle(b"".join(events[1:]), a.rng)
            self.end_stream()
        elif kind == "long_line":
            self.trickle(events[0], a.rng)
            size = int(fault.get("bytes", LONG_LINE))
            self.chunk(b"data: ")
            block = b"x" * 65536
            sent = 0
            while sent < size:
                self.chunk(block[:min(len(block), size - sent)])
                sent += len(block)
            self.chunk(b"\n\n")
            self.end_stream()
        elif kind == "endless":
            self.trickle(events[0] + endless_start(wire, a), a.rng)
            deadline = time.monotonic() + float(fault.get("seconds", ENDLESS_SECONDS))
            head, _, tail = endless_event(wire, a, 0).partition(b'"sequence_number":0,')
            n = 3
            while time.monotonic() < deadline:
                if not tail:  # no sequence numbers: the same events again
                    self.chunk(head * 256)
                    continue
                self.chunk(b"".join(head + b'"sequence_number":%d,' % (n + i) + tail
                                    for i in range(256)))
                n += 256
        elif kind in ("stall", "close"):
            cut = int(fault.get("after_bytes", len(events[0])))
            self.trickle(whole[:cut], a.rng)
            if kind == "stall":
                self.hold(float(fault.get("seconds", STALL_SECONDS)))
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")

    def hold(self, seconds):
        """Keep the connection open and silent until the client goes away or time is up."""
        self.connection.settimeout(0.2)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.connection.recv(4096) == b"":
                    return
            except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                return


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script, log, tls):
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = script
        self.log = log
        self.lock = threading.Lock()
        self.index = 0
        self.tls = tls

    def next_index(self):
        with self.lock:
            n = self.index
            self.index += 1
            return n

    def finish_request(self, request, client_address):
        if self.tls:  # the handshake runs in the connection's thread, never in accept()
            request.settimeout(10)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
            request.settimeout(None)
        super().finish_request(request, client_address)


def watch_parent(deadline, detach):
    """Exit when the process that started us goes away, or after `deadline` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and (detach or os.getppid() == PARENT):
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--script", required=True, help="the script (tests/mock/README.md)")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    ap.add_argument("--log", help="append one JSON line per request to this file")
    ap.add_argument("--max-seconds", type=float, default=900,
                    help="exit after this long (default 900)")
    ap.add_argument("--detach", action="store_true",
                    help="keep serving when the process that started it exits")
    args = ap.parse_args()
    try:
        script = Script(args.script)
    except (OSError, ValueError) as e:
        print(f"mockmodel: {e}", file=sys.stderr)
        return 2
    if PARENT == 1 and not args.detach:
        print("mockmodel: the process that started it has already exited (--detach to serve "
              "anyway)", file=sys.stderr)
        return 2
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls[0], args.tls[1])
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    srv = Server(script, log, tls)
    threading.Thread(target=watch_parent, args=(args.max_seconds, args.detach), daemon=True).start()
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
