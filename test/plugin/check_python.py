"""Check a Python Pulumi program against a component package's schema, the way the generated SDK would refuse it.

Usage: check_python.py SCHEMA.json PROGRAM.py MODULE_ALIAS
Prints one problem per line (nothing when the program fits the schema); exits 2 when the program does not parse.

Every call `<alias>.<Resource>(name, **kwargs)` must use the resource's inputs (snake_case) plus `opts`, and give
every required input; every `<alias>.<Type>Args(**kwargs)` must name an object type of the schema and use its
properties; every `<alias>.<Enum>.<MEMBER>` must name an enum type and one of its members.
"""
import ast
import json
import re
import sys


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def enum_member(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).upper()


def main():
    schema = json.load(open(sys.argv[1]))
    source = open(sys.argv[2]).read()
    alias = sys.argv[3]
    try:
        tree = ast.parse(source, sys.argv[2])
    except SyntaxError as e:
        print(f"does not parse: {e}")
        sys.exit(2)
    prefix = schema["name"] + ":index:"
    resources = {k[len(prefix):]: v for k, v in schema["resources"].items()}
    types = {k[len(prefix):]: v for k, v in schema["types"].items()}
    problems = []

    def attr_chain(node):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.insert(0, node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.insert(0, node.id)
            return parts
        return None

    def check_kwargs(where, call, props, required):
        allowed = {snake(p): p for p in props}
        given = set()
        for kw in call.keywords:
            if kw.arg is None:
                continue
            if kw.arg not in allowed:
                problems.append(f"line {call.lineno}: {where} has no argument {kw.arg!r} (known: {', '.join(sorted(allowed))})")
            given.add(kw.arg)
        for r in required:
            if snake(r) not in given:
                problems.append(f"line {call.lineno}: {where} needs {snake(r)!r}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            chain = attr_chain(node.func)
            if not chain or chain[0] != alias or len(chain) != 2:
                continue
            name = chain[1]
            if name in resources:
                r = resources[name]
                check_kwargs(name, node, list(r["inputProperties"]) + ["opts"], r.get("requiredInputs", []))
                if not node.args:
                    problems.append(f"line {node.lineno}: {name} needs a resource name")
            elif name.endswith("Args") and name[:-4] in types and "properties" in types[name[:-4]]:
                t = types[name[:-4]]
                check_kwargs(name, node, list(t["properties"]), t.get("required", []))
            else:
                problems.append(f"line {node.lineno}: {alias}.{name} is neither a component nor an input type of the schema")
        elif isinstance(node, ast.Attribute):
            chain = attr_chain(node)
            if chain and len(chain) == 3 and chain[0] == alias:
                t = types.get(chain[1])
                if not t or "enum" not in t:
                    problems.append(f"line {node.lineno}: {chain[1]} is not an enum of the schema")
                elif chain[2] not in {enum_member(m["name"]) for m in t["enum"]}:
                    problems.append(f"line {node.lineno}: {chain[1]} has no member {chain[2]}")
    for p in problems:
        print(p)


main()
