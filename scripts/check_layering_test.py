#!/usr/bin/env python3
"""Self-test of check_layering.py on small fixture trees: a forbidden include, a folder
without a row and an arrow to an unknown module each fail; transitive use passes."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_layering.py")

TABLE = """# x

## Modules and layers

```
top      the top; its description may say a -> b in words
         and continue here                                  -> mid
mid      middle                                             -> core
core     bottom
```
"""


def make_tree(root, table, files):
    os.makedirs(os.path.join(root, "docs"))
    with open(os.path.join(root, "docs", "ARCHITECTURE.md"), "w") as f:
        f.write(table)
    for path, text in files.items():
        full = os.path.join(root, "src", path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)


def run(table, files):
    with tempfile.TemporaryDirectory() as root:
        make_tree(root, table, files)
        p = subprocess.run([sys.executable, SCRIPT, "--root", root], capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stderr


CLEAN = {
    "core/a.h": "#pragma once\n",
    "mid/m.cc": '#include "mid/m.h"\n#include "core/a.h"\n',
    "mid/m.h": "#pragma once\n",
    "top/t.cc": '#include <vector>\n#include "mid/m.h"\n#include "core/a.h"  // transitive\n',
}


class CheckLayering(unittest.TestCase):
    def test_allowed_includes_pass(self):
        code, err = run(TABLE, CLEAN)
        self.assertEqual(code, 0, err)

    def test_include_against_the_layers_fails_with_file_and_line(self):
        files = dict(CLEAN)
        files["core/bad.cc"] = '#include "core/a.h"\n\n#include "mid/m.h"\n'
        code, err = run(TABLE, files)
        self.assertEqual(code, 1, err)
        self.assertIn(os.path.join("src", "core", "bad.cc") + ":3: core may not include \"mid/...\"",
                      err)

    def test_upward_include_from_a_test_subfolder_fails(self):
        files = dict(CLEAN)
        files["mid/testing/fake.h"] = '#include "top/t.h"\n'
        code, err = run(TABLE, files)
        self.assertEqual(code, 1, err)
        self.assertIn("mid may not include \"top/...\"", err)

    def test_module_without_a_row_fails(self):
        files = dict(CLEAN)
        files["extra/e.cc"] = '#include "core/a.h"\n'
        code, err = run(TABLE, files)
        self.assertEqual(code, 1, err)
        self.assertIn("src/extra/ has no row", err)

    def test_arrow_to_an_unknown_module_fails(self):
        code, err = run(TABLE.replace("-> core", "-> core, nope"), CLEAN)
        self.assertEqual(code, 1, err)
        self.assertIn("depends on 'nope', which has no row", err)

    def test_missing_table_is_an_error(self):
        code, err = run("# no table here\n", CLEAN)
        self.assertEqual(code, 2, err)
        self.assertIn("no fenced layer table", err)


if __name__ == "__main__":
    unittest.main()
