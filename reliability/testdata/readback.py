"""Reads an exposition on stdin with prometheus_client's parsers and prints what it
read as JSON: [[family, help, [[sample, {label: value}, repr(value)], ...]], ...].
Usage: readback.py text|openmetrics < exposition"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
from prometheus_client.parser import text_string_to_metric_families as text_families

text = sys.stdin.buffer.read().decode("utf-8")
parse = om_families if sys.argv[1] == "openmetrics" else text_families
out = [[f.name, f.documentation, [[s.name, s.labels, repr(float(s.value))] for s in f.samples]] for f in parse(text)]
json.dump(out, sys.stdout)
