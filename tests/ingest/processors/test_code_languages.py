"""Golden outlines of small hand-written files, one per language: symbol names,
kinds and line ranges, imports and doc comments."""

from __future__ import annotations

import pytest

from ingest.processors import ChunkPolicy, processor_for
from ingest.processors.code.outline import outline
from ingest.processors.code.symbols import walk_symbols

#: language -> (path, content type, source)
SOURCES: dict[str, tuple[str, str, str]] = {
    "javascript": (
        "src/a.js",
        "text/x-javascript",
        """\
import fs from "fs";
const path = require("path");

/** Add two numbers. */
function add(a, b) {
  return a + b;
}

export class Shape {
  @dec
  area() { return 0; }
  static create() {}
}

export const arrow = (x) => x * 2;
export default function main() {}
""",
    ),
    "typescript": (
        "src/a.ts",
        "text/x-typescript",
        """\
import { A } from "./a";
interface Point { x: number; y(): void }
type Id = string;
enum Color { Red }
namespace NS { export function inner() {} }
abstract class Base<T> { abstract run(): void; go(): void {} }
""",
    ),
    "go": (
        "cmd/a.go",
        "text/x-go",
        """\
package main

import (
	"fmt"
	m "math"
)
import "os"

// Point is a point.
type Point struct{ X int }

type Shape interface{ Area() float64 }

// Dist returns the distance.
func (p *Point) Dist() float64 { return m.Sqrt(1) }
func (p Pair[T]) G() {}
func main() { fmt.Println(os.Args) }
""",
    ),
    "rust": (
        "src/a.rs",
        "text/x-rust",
        """\
use std::collections::HashMap;
use crate::{a, b};
extern crate serde;

/// A point.
#[derive(Debug)]
pub struct Point { x: i32 }

impl Point {
    /// Make one.
    pub fn new() -> Self { Point { x: 0 } }
}
impl<T> Display for Wrapper<T> { fn fmt(&self) {} }
trait Shape { fn area(&self) -> f64; fn d(&self) {} }
enum E { A }
mod inner { fn f() {} }
macro_rules! m { () => {} }
fn main() {}
""",
    ),
    "java": (
        "src/A.java",
        "text/x-java",
        """\
package a.b;
import java.util.List;
import static java.lang.Math.*;

/** A thing. */
@Entity
public class A extends B {
    /** Make. */
    public A() {}
    @Override
    public int f(int x) { return x; }
    interface I { void g(); }
    enum E { X; void h() {} }
}
record R(int x) {}
""",
    ),
    "c": (
        "src/a.c",
        "text/x-c",
        """\
#include <stdio.h>
#include "local.h"
#ifndef GUARD
#define GUARD
struct point { int x; };
typedef struct { int y; } pair_t;
enum color { RED };
#endif
static int *make(void) { return 0; }
int main(int argc, char **argv) { return 0; }
int proto(int);
""",
    ),
    "cpp": (
        "src/a.cpp",
        "text/x-c++",
        """\
#include <vector>
namespace geo {
/// A shape.
class Shape {
public:
    virtual double area() const { return 0; }
    Shape();
};
template <typename T>
struct Box { T get() { return T(); } };
}
geo::Shape::Shape() {}
double free_fn(int x) { return x; }
extern "C" { void cfn() {} }
""",
    ),
    "csharp": (
        "src/a.cs",
        "text/x-csharp",
        """\
using System;
using System.Collections.Generic;
namespace App.Core {
    /// <summary>A thing.</summary>
    public class Thing : IThing {
        [Obsolete]
        public void Run() {}
        public Thing() {}
        public int P { get; set; }
    }
    interface IThing { void Run(); }
    struct S {}
    enum E { A }
    record R(int X);
}
""",
    ),
    "ruby": (
        "lib/a.rb",
        "text/x-ruby",
        """\
require "json"
require_relative "lib/x"

# A module.
module Outer
  # A class.
  class Thing < Base
    def run(x)
      x
    end

    def self.build
    end
  end
end

def top; end
""",
    ),
    "php": (
        "src/a.php",
        "text/x-php",
        """\
<?php
namespace App\\Models;

use App\\Base\\Model;
require_once 'helpers.php';

/** A user. */
class User extends Model {
    public function name(): string { return ""; }
}
interface I { public function f(); }
trait T { function g() {} }
function helper() {}
""",
    ),
    "bash": (
        "bin/a.sh",
        "text/x-shellscript",
        """\
#!/bin/bash
source ./lib.sh
. other.sh

# Greets.
greet() {
  echo hi
}
function build {
  make
}
greet
""",
    ),
    "sql": (
        "db/a.sql",
        "text/x-sql",
        """\
-- Users.
CREATE TABLE users (id INT PRIMARY KEY, name TEXT);
CREATE VIEW active AS SELECT * FROM users;
CREATE INDEX idx ON users (name);
INSERT INTO users VALUES (1, 'a');
CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;
SELECT 1;
""",
    ),
    "yaml": (
        "conf/a.yaml",
        "application/yaml",
        """\
# Service name.
name: app
services:
  web:
    image: x
---
other: 1
""",
    ),
    "toml": (
        "conf/a.toml",
        "application/toml",
        """\
title = "x"

[owner]
name = "y"

[[products]]
id = 1

[a.b]
c = 2
""",
    ),
}

#: language -> (symbols as (name, kind, start, end), imports, docstrings by symbol)
EXPECTED: dict[str, tuple[list[tuple[str, str, int, int]], list[str], dict[str, str]]] = {
    "javascript": (
        [
            ("add", "function", 4, 7),
            ("Shape", "class", 9, 13),
            ("Shape.area", "method", 10, 11),
            ("Shape.create", "method", 12, 12),
            ("arrow", "function", 15, 15),
            ("main", "function", 16, 16),
        ],
        ["fs", "path"],
        {"add": "Add two numbers."},
    ),
    "typescript": (
        [
            ("Point", "interface", 2, 2),
            ("Point.y", "method", 2, 2),
            ("Id", "type", 3, 3),
            ("Color", "enum", 4, 4),
            ("NS", "namespace", 5, 5),
            ("NS.inner", "function", 5, 5),
            ("Base", "class", 6, 6),
            ("Base.run", "method", 6, 6),
            ("Base.go", "method", 6, 6),
        ],
        ["./a"],
        {},
    ),
    "go": (
        [
            ("Point", "struct", 9, 10),
            ("Shape", "interface", 12, 12),
            ("Point.Dist", "method", 14, 15),
            ("Pair.G", "method", 16, 16),
            ("main", "function", 17, 17),
        ],
        ["fmt", "math", "os"],
        {"Point": "Point is a point.", "Point.Dist": "Dist returns the distance."},
    ),
    "rust": (
        [
            ("Point", "struct", 5, 7),
            ("Point", "impl", 9, 12),
            ("Point.new", "method", 10, 11),
            ("Wrapper", "impl", 13, 13),
            ("Wrapper.fmt", "method", 13, 13),
            ("Shape", "trait", 14, 14),
            ("Shape.area", "method", 14, 14),
            ("Shape.d", "method", 14, 14),
            ("E", "enum", 15, 15),
            ("inner", "module", 16, 16),
            ("inner.f", "function", 16, 16),
            ("m", "macro", 17, 17),
            ("main", "function", 18, 18),
        ],
        ["std::collections::HashMap", "crate::{a,b}", "serde"],
        {"Point": "A point.", "Point.new": "Make one."},
    ),
    "java": (
        [
            ("A", "class", 5, 14),
            ("A.A", "method", 8, 9),
            ("A.f", "method", 10, 11),
            ("A.I", "interface", 12, 12),
            ("A.I.g", "method", 12, 12),
            ("A.E", "enum", 13, 13),
            ("A.E.h", "method", 13, 13),
            ("R", "record", 15, 15),
        ],
        ["java.util.List", "static java.lang.Math.*"],
        {"A": "A thing.", "A.A": "Make."},
    ),
    "c": (
        [
            ("point", "struct", 5, 5),
            ("pair_t", "struct", 6, 6),
            ("color", "enum", 7, 7),
            ("make", "function", 9, 9),
            ("main", "function", 10, 10),
        ],
        ["stdio.h", "local.h"],
        {},
    ),
    "cpp": (
        [
            ("geo", "namespace", 2, 11),
            ("geo.Shape", "class", 3, 8),
            ("geo.Shape.area", "method", 6, 6),
            ("geo.Box", "struct", 9, 10),
            ("geo.Box.get", "method", 10, 10),
            ("geo.Shape.Shape", "method", 12, 12),
            ("free_fn", "function", 13, 13),
            ("cfn", "function", 14, 14),
        ],
        ["vector"],
        {"geo.Shape": "A shape."},
    ),
    "csharp": (
        [
            ("App.Core", "namespace", 3, 15),
            ("App.Core.Thing", "class", 4, 10),
            ("App.Core.Thing.Run", "method", 6, 7),
            ("App.Core.Thing.Thing", "method", 8, 8),
            ("App.Core.IThing", "interface", 11, 11),
            ("App.Core.IThing.Run", "method", 11, 11),
            ("App.Core.S", "struct", 12, 12),
            ("App.Core.E", "enum", 13, 13),
            ("App.Core.R", "record", 14, 14),
        ],
        ["System", "System.Collections.Generic"],
        {"App.Core.Thing": "A thing."},
    ),
    "ruby": (
        [
            ("Outer", "module", 4, 15),
            ("Outer.Thing", "class", 6, 14),
            ("Outer.Thing.run", "method", 8, 10),
            ("Outer.Thing.build", "method", 12, 13),
            ("top", "function", 17, 17),
        ],
        ["json", "lib/x"],
        {"Outer": "A module.", "Outer.Thing": "A class."},
    ),
    "php": (
        [
            ("User", "class", 7, 10),
            ("User.name", "method", 9, 9),
            ("I", "interface", 11, 11),
            ("I.f", "method", 11, 11),
            ("T", "trait", 12, 12),
            ("T.g", "method", 12, 12),
            ("helper", "function", 13, 13),
        ],
        ["App\\Base\\Model", "helpers.php"],
        {"User": "A user."},
    ),
    "bash": (
        [("greet", "function", 5, 8), ("build", "function", 9, 11)],
        ["./lib.sh", "other.sh"],
        {"greet": "Greets."},
    ),
    "sql": (
        [
            ("users", "table", 1, 2),
            ("active", "view", 3, 3),
            ("idx", "index", 4, 4),
            ("f", "function", 6, 6),
        ],
        [],
        {"users": "Users."},
    ),
    "yaml": (
        [("name", "key", 1, 2), ("services", "key", 3, 5), ("other", "key", 7, 7)],
        [],
        {"name": "Service name."},
    ),
    "toml": (
        [
            ("title", "key", 1, 1),
            ("owner", "table", 3, 4),
            ("products", "table", 6, 7),
            ("a.b", "table", 9, 10),
        ],
        [],
        {},
    ),
}


#: no merging (target 50 -> pieces under 12 characters merge), no splitting
WIDE = ChunkPolicy(target_chars=50, max_chars=5000)


def process(make_content, language: str, policy: ChunkPolicy = WIDE):
    path, content_type, text = SOURCES[language]
    return processor_for(content_type).process(
        make_content(text, content_type, path, decode=False), policy
    )


@pytest.mark.parametrize("language", sorted(SOURCES))
def test_golden_outline(make_content, language):
    symbols, imports, docstrings = EXPECTED[language]
    doc = process(make_content, language)
    assert doc.metadata["language"] == language
    assert "warnings" not in doc.metadata
    assert [
        (s["name"], s["kind"], s["start_line"], s["end_line"]) for s in doc.metadata["symbols"]
    ] == symbols
    assert doc.metadata["imports"] == imports
    path, _, text = SOURCES[language]
    found = outline(language, text, path)
    assert found is not None
    assert {s.name: s.docstring for s in walk_symbols(found.symbols) if s.docstring} == docstrings
    for chunk in doc.chunks:
        if chunk.metadata["symbol"] in docstrings and "symbols" not in chunk.metadata:
            if chunk.metadata["symbol_kind"] not in ("impl", "module"):
                assert chunk.metadata["docstring"] == docstrings[chunk.metadata["symbol"]]


@pytest.mark.parametrize("language", sorted(SOURCES))
def test_chunks_cover_the_file_in_order_without_overlap(make_content, language):
    for policy in (WIDE, ChunkPolicy(), ChunkPolicy(target_chars=50, max_chars=100)):
        doc = process(make_content, language, policy)
        lines = doc.text.split("\n")
        previous_end = 0
        for chunk in doc.chunks:
            meta = chunk.metadata
            assert meta["language"] == language
            assert meta["symbol"]
            assert meta["symbol_kind"]
            assert len(chunk.text) <= policy.max_chars
            assert previous_end < meta["start_line"] <= meta["end_line"]
            assert chunk.text in "\n".join(lines[meta["start_line"] - 1 : meta["end_line"]])
            previous_end = meta["end_line"]
        covered = "".join(chunk.text for chunk in doc.chunks)
        assert "".join(covered.split()) == "".join(doc.text.split())
