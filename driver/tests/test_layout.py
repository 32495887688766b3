"""The driver stays in small pieces: no module over 300 lines, no function
over 40, outside the tests (the architecture's promise, checked)."""
import ast

from conftest import ROOT

MODULE_LINES, FUNCTION_LINES = 300, 40


def driver_modules():
    for path in sorted((ROOT / "driver").rglob("*.py")):
        if not {"tests", "conformance"} & set(path.relative_to(ROOT).parts):
            yield path


def test_no_driver_module_is_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in driver_modules()
            if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert long == {}


def test_no_driver_function_is_over_40_lines():
    long = {}
    for path in driver_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = n
    assert long == {}
