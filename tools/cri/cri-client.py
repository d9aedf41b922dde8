#!/usr/bin/python3
"""cri-client.py: a CRI v1 client for nabla's tests and benchmarks.

Usage: cri-client.py SOCKET

Speaks the CRI's RuntimeService over gRPC to the unix socket SOCKET, as the
kubelet does. Reads one request a line on stdin, as JSON:
    {"method": "RunPodSandbox", "request": {...}, "timeout": 60}
(the request in protobuf's JSON form, field names in lowerCamelCase) and
writes one answer a line on stdout:
    {"response": {...}, "seconds": 0.012}   or
    {"error": {"code": "UNKNOWN", "details": "..."}, "seconds": 0.004}
The messages are cri.proto's, beside this file, compiled with protoc when
the client starts. bench/cri-bench.py imports the Client class. Needs
Debian's python3-grpcio, python3-protobuf and protobuf-compiler.
"""
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


class CRIError(Exception):
    """A CRI call's gRPC error: its status code's name and details."""
    def __init__(self, method, code, details):
        super().__init__("%s: %s: %s" % (method, code, details))
        self.code = code
        self.details = details


class Client:
    """RuntimeService on SOCKET; call() takes and returns dictionaries."""

    def __init__(self, socket):
        import grpc
        from google.protobuf import json_format
        self._grpc = grpc
        self._json = json_format
        here = os.path.dirname(os.path.abspath(__file__))
        scratch = tempfile.mkdtemp(prefix="nabla-cri-")
        try:
            subprocess.run(["protoc", "-I", here, "--python_out", scratch, os.path.join(here, "cri.proto")], check=True)
            sys.path.insert(0, scratch)
            self._messages = importlib.import_module("cri_pb2")
            sys.path.remove(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self._service = self._messages.DESCRIPTOR.services_by_name["RuntimeService"]
        self._channel = grpc.insecure_channel("unix://" + socket)

    def call(self, method, request, timeout=60):
        """Calls RuntimeService/METHOD; returns the response or raises CRIError."""
        description = self._service.methods_by_name.get(method)
        if description is None:
            raise CRIError(method, "CLIENT", "no method %r in cri.proto" % method)
        request_type = getattr(self._messages, description.input_type.name)
        response_type = getattr(self._messages, description.output_type.name)
        stub = self._channel.unary_unary("/runtime.v1.RuntimeService/" + method,
                                         request_serializer=request_type.SerializeToString,
                                         response_deserializer=response_type.FromString)
        try:
            response = stub(self._json.ParseDict(request, request_type()), timeout=timeout)
        except self._grpc.RpcError as error:
            raise CRIError(method, error.code().name, error.details()) from None
        return self._json.MessageToDict(response, including_default_value_fields=True)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: cri-client.py SOCKET\n")
        return 64
    client = Client(sys.argv[1])
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        started = time.monotonic()
        try:
            answer = {"response": client.call(command.get("method", ""), command.get("request", {}), command.get("timeout", 60))}
        except CRIError as error:
            answer = {"error": {"code": error.code, "details": error.details}}
        answer["seconds"] = time.monotonic() - started
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
