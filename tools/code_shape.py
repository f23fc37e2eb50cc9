"""Fail when app/ holds a module over 400 lines, or a function over 60 lines or of cyclomatic complexity over 15
(radon's measure): the limits the architecture keeps modules and functions readable by. `make lint` runs it."""

import sys
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class

MODULE_LINES, FUNCTION_LINES, COMPLEXITY = 400, 60, 15


def problems(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        lines = text.count("\n")
        if lines > MODULE_LINES:
            found.append(f"{path}: {lines} lines (at most {MODULE_LINES})")
        for block in cc_visit(text):
            for function in block.methods if isinstance(block, Class) else [block]:
                length = function.endline - function.lineno + 1
                if length > FUNCTION_LINES:
                    found.append(
                        f"{path}:{function.lineno}: {function.name} is {length} lines (at most {FUNCTION_LINES})"
                    )
                if function.complexity > COMPLEXITY:
                    found.append(
                        f"{path}:{function.lineno}: {function.name} has complexity {function.complexity} "
                        f"(at most {COMPLEXITY})"
                    )
    return found


if __name__ == "__main__":
    found = problems(Path(sys.argv[1] if len(sys.argv) > 1 else "app"))
    print("\n".join(found) or "code shape: every module and function within the limits")  # noqa: T201
    sys.exit(1 if found else 0)
