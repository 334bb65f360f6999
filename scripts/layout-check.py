#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a circle.

Every file under crates/*/src is a module (`pages/channel.rs` is
`pages::channel`, `store/mod.rs` is `store`). A module depends on another when
it names it in a path: `crate::a::b::Item`, `super::x`, `self::y`, in a `use`
tree or inline. A module and its own ancestors or descendants are not counted
against each other (a `mod.rs` routes to its children, and they use what it
holds). Any strongly connected group of two or more modules is a circle: the
script prints each with one edge list per module and exits 1.

It also holds the apps to the README's layout rule: in `account` and `admin`
only the edges (`lib.rs`, `auth.rs`, `api/`, `pages/`) name the crate root's
`AppState`; domain modules take the state they need.

    python3 scripts/import-circles.py            # every crate
    python3 scripts/import-circles.py crates/web # one
"""

import re
import sys
from pathlib import Path

COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
STRING = re.compile(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"')
USE = re.compile(r"\buse\s+([^;]+);")
PATH = re.compile(r"\b((?:crate|super|self)(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)")


def modules(src: Path) -> dict[tuple[str, ...], Path]:
    found = {}
    for file in src.rglob("*.rs"):
        parts = list(file.relative_to(src).with_suffix("").parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        if "bin" in parts[:1]:
            continue
        found[tuple(parts)] = file
    return found


def expand(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(r"\s+", "", tree)
    start = tree.find("{")
    if start < 0:
        return [tree.split(" as ")[0]]
    prefix, inner = tree[:start], tree[start + 1 : tree.rfind("}")]
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += (ch == "{") - (ch == "}")
        cur += ch
    items.append(cur)
    out = []
    for item in filter(None, items):
        for sub in expand(item):
            out.append(prefix + sub if sub != "self" else prefix.rstrip(":"))
    return out


def resolve(path: str, here: tuple[str, ...], known) -> tuple[str, ...] | None:
    segs = [s for s in re.sub(r"\s+", "", path).split("::") if s]
    if not segs:
        return None
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base = list(here)
        while segs and segs[0] in ("super", "self"):
            if segs.pop(0) == "super":
                base = base[:-1]
        base, rest = tuple(base), segs
    else:
        return None
    best = base if base in known else None
    for i in range(1, len(rest) + 1):
        if base + tuple(rest[:i]) in known:
            best = base + tuple(rest[:i])
    return best


def related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def graph(src: Path) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    known = modules(src)
    edges = {m: set() for m in known}
    for mod, file in known.items():
        text = STRING.sub('""', COMMENT.sub("", file.read_text()))
        paths = []
        for use in USE.findall(text):
            paths += expand(use.strip().removeprefix("pub(crate) ").removeprefix("pub "))
        paths += PATH.findall(USE.sub("", text))
        for p in paths:
            target = resolve(p, mod, known)
            if target is not None and not related(mod, target):
                edges[mod].add(target)
    return edges


def circles(edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


EDGES = ("lib.rs", "auth.rs", "api.rs", "api/", "pages/")


def state_outside_edges(crate: Path) -> list[str]:
    if crate.name not in ("account", "admin"):
        return []
    src = crate / "src"
    bad = []
    for file in sorted(src.rglob("*.rs")):
        rel = file.relative_to(src).as_posix()
        if rel.startswith(EDGES) or rel in EDGES:
            continue
        text = STRING.sub('""', COMMENT.sub("", file.read_text()))
        if re.search(r"\bAppState\b", text):
            bad.append(f"{crate.name}/src/{rel}")
    return bad


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--circles-only"]
    circles_only = "--circles-only" in sys.argv[1:]
    roots = [Path(a) for a in args] or sorted(Path("crates").glob("*"))
    bad = 0
    for crate in roots:
        src = crate / "src"
        if not src.is_dir():
            continue
        edges = graph(src)
        for group in circles(edges):
            bad += 1
            name = lambda m: "::".join(m) or "(root)"
            print(f"{crate.name}: import circle between {len(group)} modules:")
            for m in group:
                inside = sorted(name(t) for t in edges[m] if t in group)
                print(f"  {name(m)} -> {', '.join(inside)}")
        for file in [] if circles_only else state_outside_edges(crate):
            bad += 1
            print(f"{file}: a domain module names AppState; pass it what it needs")
    if bad:
        print(f"{bad} layout problem(s): move a shared piece to the module it belongs to, and pass domain code what it needs")
        return 1
    print("no import circles; only the edges name AppState")
    return 0


if __name__ == "__main__":
    sys.exit(main())
