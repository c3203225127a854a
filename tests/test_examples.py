"""The documented examples, each run as a reader runs it: every ```python
block of the README and of docs/, and every docstring example (``>>>``)
of d2lrec, in a fresh Python process with nothing set up first (the real
data comes from ``$D2LREC_DATA_DIR``).  A markdown example is saved as a
``.py`` file in an empty folder outside the repository and run from
there, as a reader runs it (``python -c`` would hide what a saved script
meets, such as spawned workers that import it again)."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
PAGES = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
BLOCK = re.compile(r'^```python\n(.*?)^```', re.M | re.S)
EXAMPLES = [pytest.param(code, id=f'{page.name}-{i}')
            for page in PAGES
            for i, code in enumerate(BLOCK.findall(page.read_text()))]
DOCTESTS = sorted(
    '.'.join(path.relative_to(ROOT).with_suffix('').parts)
    for path in (ROOT / 'd2lrec').rglob('*.py') if '>>>' in path.read_text())


def run(*args, cwd=ROOT):
    out = subprocess.run([sys.executable, *args], capture_output=True,
                         text=True, timeout=600, cwd=cwd)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def test_the_readme_and_docs_have_examples_and_so_do_docstrings():
    assert any('README' in p.id for p in EXAMPLES)
    assert len(EXAMPLES) >= 4
    assert {'d2lrec.lab.config', 'd2lrec.lab.experiment',
            'd2lrec.lab.models'} <= set(DOCTESTS)


@pytest.mark.usefixtures('real_data')
@pytest.mark.parametrize('code', EXAMPLES)
def test_markdown_example_runs_as_a_saved_script(code, tmp_path):
    (tmp_path / 'example.py').write_text(code)
    run('example.py', cwd=tmp_path)


@pytest.mark.usefixtures('real_data')
@pytest.mark.parametrize('module', DOCTESTS)
def test_docstring_examples_run_in_a_fresh_process(module):
    run('-c', 'import doctest, importlib, sys\n'
              'module = importlib.import_module(sys.argv[1])\n'
              'result = doctest.testmod(module)\n'
              'sys.exit(result.failed > 0 or result.attempted == 0)', module)
