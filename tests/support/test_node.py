from __future__ import annotations

import json

from tests.support.node import run_node


def test_groq_js_answers_a_query() -> None:
    script = """
import { parse, evaluate } from "groq-js";
const tree = parse("*[_type == 'product'].slug.current");
const dataset = [{ _id: "a", _type: "product", slug: { current: "railcam" } }];
const value = await evaluate(tree, { dataset });
console.log(JSON.stringify(await value.get()));
"""
    assert json.loads(run_node(script)) == ["railcam"]
