#!/usr/bin/env python3
"""Throwaway: diff the (method, path, status) triples of two OpenAPI documents.
Usage: openapi_ops.py OLD.json NEW.json   (exit 1 if OLD has triples NEW lacks)"""
import json, sys

def ops(path):
    doc = json.load(open(path))
    out = set()
    for p, item in doc.get("paths", {}).items():
        for m, op in item.items():
            if m in ("parameters", "summary", "description", "servers"):
                continue
            for status in op.get("responses", {}):
                out.add((m.upper(), p, status))
    return out

old, new = ops(sys.argv[1]), ops(sys.argv[2])
for t in sorted(old - new):
    print("missing:", *t)
for t in sorted(new - old):
    print("added:  ", *t)
sys.exit(1 if old - new else 0)
