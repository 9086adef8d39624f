#!/usr/bin/env python3
"""Checks that the Fortran module declares the C API exactly as rung.h does.

Every function of src/capi/rung.h must have one `bind(C, name="...")` interface in fortran_bridge/rung.f90
with the same number of arguments, in the same order, of matching kinds (int, double, size_t, char, a
handle) passed the same way (by value or by reference; a C data pointer may be a `type(c_ptr), value`), and
the same result kind; and the module must bind nothing that rung.h does not declare. Usage: check_bindings.py [rung.h] [rung.f90]. Prints one line per
mismatch and a summary; exits 1 on any mismatch.
"""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
header = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "src/capi/rung.h"
module = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "fortran_bridge/rung.f90"

C_SCALARS = {"int": "int", "double": "double", "size_t": "size_t", "char": "char",
             "rung_status": "int", "rung_decision_kind": "int"}


def c_kind(decl):
    """(kind, passing) of one C parameter or return type, e.g. 'const double* cell' -> ('double', 'ref')."""
    decl = re.sub(r"\bconst\b", "", decl).strip()
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    base = words[0]
    if base in C_SCALARS:
        kind = C_SCALARS[base]
        return (kind, "ref" if stars else "value")
    if base.startswith("rung_"):  # an opaque handle: rung_save* is the pointer itself, rung_save** its address
        if stars == 0:
            raise ValueError(f"opaque type passed by value: {decl}")
        return ("ptr", "ref" if stars == 2 else "value")
    raise ValueError(f"unknown C type: {decl}")


def parse_header(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    funcs = {}
    for m in re.finditer(r"(\w[\w\s\*]*?)\b(rung_\w+)\s*\(([^()]*)\)\s*;", text):
        ret, name, args = m.group(1).strip(), m.group(2), m.group(3).strip()
        if ret.startswith("typedef"):
            continue
        params = [] if args in ("", "void") else [c_kind(a) for a in args.split(",")]
        funcs[name] = (c_kind(ret)[0], params)
    return funcs


F_TYPES = [(r"integer\(c_int\)", "int"), (r"integer\(c_size_t\)", "size_t"), (r"real\(c_double\)", "double"),
           (r"character\(kind=c_char\)", "char"), (r"type\(c_ptr\)", "ptr")]


def parse_module(text, problems):
    funcs = {}
    pattern = r"function\s+(\w+)\s*\(([^)]*)\)\s*bind\(C,\s*name=\"(\w+)\"\)(.*?)end function"
    for m in re.finditer(pattern, text, flags=re.S | re.I):
        fname, args, cname, body = m.group(1), m.group(2), m.group(3), m.group(4)
        names = [a.strip() for a in args.split(",") if a.strip()]
        kinds = {}
        for line in body.splitlines():
            line = line.split("!")[0].strip()
            if "::" not in line:
                continue
            attrs, vars_ = line.split("::", 1)
            kind = next((k for p, k in F_TYPES if re.search(p, attrs, re.I)), None)
            if kind is None:
                continue
            value = re.search(r"\bvalue\b", attrs, re.I) is not None
            for v in re.findall(r"(\w+)\s*(\([^)]*\))?", vars_):
                array = bool(v[1])
                kinds[v[0].lower()] = (kind, "value" if value and not array else "ref")
        undeclared = [a for a in [fname] + names if a.lower() not in kinds]
        if undeclared:
            problems.append(f"{cname}: {', '.join(undeclared)} without a C-interoperable type in {module.name}")
            continue
        params = [kinds[a.lower()] for a in names]
        funcs[cname] = (kinds[fname.lower()][0], params)
    return funcs


def main():
    problems = []
    c = parse_header(header.read_text())
    f = parse_module(module.read_text(), problems)
    for name, (ret, params) in sorted(c.items()):
        if name not in f:
            if any(p.startswith(name + ":") for p in problems):
                continue
            problems.append(f"{name}: declared in {header.name}, not bound in {module.name}")
            continue
        fret, fparams = f[name]
        if fret != ret:
            problems.append(f"{name}: result {ret} in {header.name}, {fret} in {module.name}")
        if len(fparams) != len(params):
            problems.append(f"{name}: {len(params)} arguments in {header.name}, {len(fparams)} in {module.name}")
            continue
        for i, (a, b) in enumerate(zip(params, fparams), 1):
            # a C pointer to data (T*) may also be bound as `type(c_ptr), value`: the same address crosses,
            # and the Fortran side can pass c_null_ptr where the C API gives NULL a meaning
            if a != b and not (a[1] == "ref" and a[0] != "ptr" and b == ("ptr", "value")):
                problems.append(f"{name}: argument {i} is {a[0]} by {a[1]} in {header.name}, "
                                f"{b[0]} by {b[1]} in {module.name}")
    for name in sorted(set(f) - set(c)):
        problems.append(f"{name}: bound in {module.name}, not declared in {header.name}")
    for p in problems:
        print(p)
    print(f"{len(c)} C API functions, {len(f)} Fortran bindings, {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
