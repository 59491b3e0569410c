#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The mock model server's own tests (ctest mock/selftest), stdlib only: what each wire
streams, turn selection, {{last_tool_result}}, every fault, the request log and TLS. The
official SDKs read the same streams in tests/mock/validate/ where npm is reachable."""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

MOCK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mockmodel.py")

SCRIPT = {
    "turns": [
        {"say": "Running. ", "thinking": "think",
         "call": [{"tool": "Bash", "input": {"command": "ls -l"}},
                  {"tool": "Bash", "namespace": "mcp__srv"}]},
        {"say": "saw {{last_tool_result}}"},
    ],
    "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 3,
              "cache_write_tokens": 2},
    "ping": True,
}


class Mock:
    def __init__(self, script, tls=None):
        self.dir = tempfile.mkdtemp(prefix="pod-mock-test-")
        path = os.path.join(self.dir, "script.json")
        with open(path, "w") as f:
            json.dump(script, f)
        self.log_path = os.path.join(self.dir, "log.jsonl")
        argv = [sys.executable, MOCK, "--script", path, "--log", self.log_path]
        if tls:
            argv += ["--tls", *tls]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(self.log_path) as f:
            return [json.loads(line) for line in f]

    def post(self, path, body, timeout=10, context=None):
        if context:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=context)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                   "x-api-key": "sk-test"})
        return c.getresponse()


def events(raw):
    """SSE bytes to [(event, data)], data parsed as JSON where it is JSON."""
    out = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        ev, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        d = "\n".join(data)
        try:
            d = json.loads(d)
        except ValueError:
            pass
        out.append((ev, d))
    return out


class Wires(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = Mock(SCRIPT)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def test_anthropic_stream(self):
        r = self.m.post("/v1/messages?beta=true", {"model": "m1", "stream": True,
                                                   "messages": [{"role": "user", "content": "go"}]})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/event-stream"))
        evs = events(r.read())
        names = [e for e, _ in evs]
        self.assertEqual(names[0], "message_start")
        self.assertEqual(names[1], "ping")
        self.assertEqual(names[-2:], ["message_delta", "message_stop"])
        start = evs[0][1]["message"]
        self.assertEqual(start["model"], "m1")
        self.assertEqual(start["usage"]["cache_read_input_tokens"], 3)
        self.assertEqual(start["usage"]["cache_creation_input_tokens"], 2)
        blocks, text, args, thinking = {}, "", {}, ""
        for e, d in evs:
            if e == "content_block_start":
                blocks[d["index"]] = d["content_block"]
            elif e == "content_block_delta":
                delta = d["delta"]
                if delta["type"] == "text_delta":
                    text += delta["text"]
                elif delta["type"] == "thinking_delta":
                    thinking += delta["thinking"]
                elif delta["type"] == "input_json_delta":
                    args[d["index"]] = args.get(d["index"], "") + delta["partial_json"]
        self.assertEqual(text, "Running. ")
        self.assertEqual(thinking, "think")
        tools = [i for i, b in blocks.items() if b["type"] == "tool_use"]
        self.assertEqual(len(tools), 2)
        self.assertEqual(json.loads(args[tools[0]]), {"command": "ls -l"})
        self.assertEqual(args[tools[1]], "")  # an empty input: one empty fragment, meaning {}
        self.assertEqual(evs[-2][1]["delta"]["stop_reason"], "tool_use")
        self.assertEqual(evs[-2][1]["usage"]["output_tokens"], 5)

    def test_anthropic_last_tool_result(self):
        msgs = [{"role": "user", "content": "go"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "Bash",
                                                   "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a",
                                              "content": [{"type": "text", "text": "REAL"}]}]}]
        r = self.m.post("/v1/messages", {"model": "m", "messages": msgs})
        body = json.loads(r.read())
        self.assertEqual(body["content"], [{"type": "text", "text": "saw REAL"}])
        self.assertEqual(body["stop_reason"], "end_turn")

    def test_chat_stream_and_usage_only_when_asked(self):
        for include in (True, False):
            body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
            if include:
                body["stream_options"] = {"include_usage": True}
            evs = events(self.m.post("/v1/chat/completions", body).read())
            self.assertEqual(evs[-1][1], "[DONE]")
            chunks = [d for _, d in evs[:-1]]
            usage = [c["usage"] for c in chunks if c.get("usage")]
            self.assertEqual(usage and usage[0]["prompt_tokens"], 13 if include else [])
            calls = {}
            for c in chunks:
                for ch in c["choices"]:
                    for tc in ch["delta"].get("tool_calls", []):
                        calls.setdefault(tc["index"], "")
                        calls[tc["index"]] += tc["function"]["arguments"]
            self.assertEqual(json.loads(calls[0]), {"command": "ls -l"})
            self.assertEqual(json.loads(calls[1]), {})
            finish = [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]]
            self.assertEqual(finish, ["tool_calls"])

    def test_chat_tool_result(self):
        msgs = [{"role": "user", "content": "x"}, {"role": "assistant", "content": None},
                {"role": "tool", "tool_call_id": "c", "content": "OUT"}]
        body = json.loads(self.m.post("/v1/chat/completions", {"model": "m", "messages": msgs}).read())
        self.assertEqual(body["choices"][0]["message"]["content"], "saw OUT")

    def test_responses_stream_and_previous_response_id(self):
        evs = events(self.m.post("/v1/responses", {"model": "m", "stream": True, "input": "x"}).read())
        self.assertEqual([e for e, _ in evs][:2], ["response.created", "response.in_progress"])
        self.assertEqual([d["sequence_number"] for _, d in evs], list(range(len(evs))))
        done = evs[-1][1]["response"]
        self.assertEqual(evs[-1][0], "response.completed")
        self.assertEqual([i["type"] for i in done["output"]],
                         ["reasoning", "message", "function_call", "function_call"])
        args = "".join(d["delta"] for e, d in evs if e == "response.function_call_arguments.delta"
                       and d["item_id"] == done["output"][2]["id"])
        self.assertEqual(json.loads(args), {"command": "ls -l"})
        self.assertNotIn("namespace", done["output"][2])
        self.assertEqual(done["output"][3]["namespace"], "mcp__srv", "a namespace tool's tool")
        self.assertEqual(done["usage"]["input_tokens_details"]["cached_tokens"], 3)
        nxt = {"model": "m", "previous_response_id": done["id"],
               "input": [{"type": "function_call_output", "call_id": "c", "output": "PREV"}]}
        body = json.loads(self.m.post("/v1/responses", nxt).read())
        self.assertEqual(body["output"][0]["content"][0]["text"], "saw PREV")

    def test_past_the_last_turn(self):
        msgs = [{"role": "assistant", "content": "a"}] * 5
        body = json.loads(self.m.post("/v1/chat/completions", {"model": "m", "messages": msgs}).read())
        self.assertEqual(body["choices"][0]["message"]["content"], "script exhausted")

    def test_the_log(self):
        self.m.post("/v1/messages", {"model": "logged", "messages": []}).read()
        last = self.m.log()[-1]
        self.assertEqual(last["method"], "POST")
        self.assertEqual(last["headers"]["x-api-key"], "sk-test")
        self.assertEqual(last["body"]["model"], "logged")


class Chunks(unittest.TestCase):
    def test_irregular_chunks(self):
        m = Mock(SCRIPT)
        try:
            s = socket.create_connection(("127.0.0.1", m.port))
            body = json.dumps({"model": "m", "stream": True, "messages": []}).encode()
            s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            raw = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                raw += d
            s.close()
            rest = raw.split(b"\r\n\r\n", 1)[1]
            sizes = []
            while True:
                line, rest = rest.split(b"\r\n", 1)
                n = int(line, 16)
                if n == 0:
                    break
                sizes.append(n)
                rest = rest[n + 2:]
            self.assertGreater(len(set(sizes)), 5)
            self.assertLessEqual(max(sizes), 48)
        finally:
            m.close()

    def test_quirks(self):
        m = Mock(dict(SCRIPT, quirks={"omit_index": True, "finish_stop": True}))
        try:
            evs = events(m.post("/v1/chat/completions", {"model": "m", "stream": True,
                                                         "messages": []}).read())
            deltas = [tc for _, d in evs[:-1] for ch in d["choices"]
                      for tc in ch["delta"].get("tool_calls", [])]
            self.assertTrue(deltas and all("index" not in tc and tc["id"] for tc in deltas))
            finish = [ch["finish_reason"] for _, d in evs[:-1] for ch in d["choices"]
                      if ch["finish_reason"]]
            self.assertEqual(finish, ["stop"])
        finally:
            m.close()


class Faults(unittest.TestCase):
    def test_statuses_in_each_wire_shape(self):
        faults = [{"request": 0, "status": 429, "retry_after": 3},
                  {"request": 1, "status": 400, "error": "context_length"},
                  {"request": 2, "status": 404, "path": "/chat/completions"},
                  {"request": 3, "status": 529, "retry_after_ms": 20}]
        m = Mock({"turns": [{"say": "ok"}], "faults": faults})
        try:
            r = m.post("/v1/messages", {"model": "m", "messages": []})
            self.assertEqual((r.status, r.getheader("Retry-After")), (429, "3"))
            self.assertEqual(json.loads(r.read())["error"]["type"], "rate_limit_error")
            r = m.post("/v1/chat/completions", {"model": "m", "messages": []})
            self.assertEqual(json.loads(r.read())["error"]["code"], "context_length_exceeded")
            r = m.post("/v1/responses", {"model": "m", "input": "x"})  # the path does not match
            self.assertEqual(r.status, 200)
            r.read()
            r = m.post("/v1/responses", {"model": "m", "input": "x"})
            self.assertEqual((r.status, r.getheader("retry-after-ms")), (529, "20"))
            self.assertIn("overloaded", json.loads(r.read())["error"]["message"])
            r = m.post("/v1/messages", {"model": "m", "messages": []})  # past the faults
            self.assertEqual(r.status, 200)
        finally:
            m.close()

    def test_stream_faults(self):
        faults = [{"request": 0, "kind": "overload"},
                  {"request": 1, "kind": "close", "after_bytes": 200},
                  {"request": 2, "kind": "invalid_json"},
                  {"request": 3, "kind": "long_line", "bytes": 1 << 20},
                  {"request": 4, "kind": "stall", "after_bytes": 100, "seconds": 5},
                  {"request": 5, "kind": "endless", "seconds": 5}]
        m = Mock({"turns": [{"say": "a long enough answer " * 8}], "faults": faults})
        body = {"model": "m", "stream": True, "messages": []}
        try:
            evs = events(m.post("/v1/messages", body).read())
            self.assertEqual(evs[-1], ("error", {"type": "error", "error": {
                "type": "overloaded_error", "message": "Overloaded"}}))
            with self.assertRaises(http.client.IncompleteRead):
                m.post("/v1/messages", body).read()
            raw = m.post("/v1/messages", body).read()
            self.assertIn(b'data: {"type": "content_block_delta", "index": 0,\n\n', raw)
            raw = m.post("/v1/messages", body).read()
            self.assertIn(b"x" * (1 << 20) + b"\n\n", raw)
            r = m.post("/v1/messages", body, timeout=1)
            with self.assertRaises((socket.timeout, TimeoutError)):
                r.read()
            t0 = time.monotonic()
            r = m.post("/v1/messages", body)
            head = r.read(8 << 20)
            self.assertGreater(len(head), 8 << 19)
            self.assertIn(b"event: content_block_start", head[:2000])  # a block, then its deltas
            r.close()
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            m.close()


class Tls(unittest.TestCase):
    def test_https_and_refusal(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        d = tempfile.mkdtemp(prefix="pod-mock-tls-")
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                       capture_output=True)
        m = Mock({"turns": [{"say": "secure"}]}, tls=(cert, key))
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                m.post("/v1/messages", {"model": "m", "messages": []},
                       context=ssl.create_default_context())
            ctx = ssl.create_default_context(cafile=cert)
            body = json.loads(m.post("/v1/messages", {"model": "m", "messages": []},
                                     context=ctx).read())
            self.assertEqual(body["content"][0]["text"], "secure")
        finally:
            m.close()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)  # responses read to the end, by design
    unittest.main()
