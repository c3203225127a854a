"""The README and docs/: a README read in minutes, links that lead
somewhere, and Colab links that follow the repository's address."""
import pathlib
import re

import tomllib

ROOT = pathlib.Path(__file__).parents[1]
README = ROOT / 'README.md'
PAGES = [README, *sorted((ROOT / 'docs').glob('*.md'))]
LINK = re.compile(r'\]\(([^)\s]+)\)')
#: A test file cited in the text, and the test it names, if any.
TEST = re.compile(r'\b(tests/[\w/]+\.py)(?:::(\w+))?')


def test_the_readme_is_short():
    assert len(README.read_bytes()) <= 12_000


def test_every_relative_link_leads_to_a_file():
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r'[a-z]+:', target) or target.startswith('#'):
                continue
            path = (page.parent / target.split('#')[0]).resolve()
            assert path.exists(), f'{page.name}: {target}'


def test_every_cited_test_exists():
    """``tests/x.py`` and ``tests/x.py::test_name``, as the pages cite
    them, lead to that file and that test."""
    for page in PAGES:
        for path, name in TEST.findall(page.read_text()):
            assert (ROOT / path).is_file(), f'{page.name}: {path}'
            if name:
                assert re.search(rf'^def {name}\(', (ROOT / path).read_text(),
                                 re.M), f'{page.name}: {path}::{name}'


def test_the_readme_opens_every_notebook_in_colab():
    urls = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    github = urls['project']['urls']['Repository'].removeprefix(
        'https://github.com/')
    text = README.read_text()
    for path in sorted((ROOT / 'notebooks').glob('*.ipynb')):
        link = (f'https://colab.research.google.com/github/{github}/blob/'
                f'main/notebooks/{path.name}')
        assert link in text, path.name


def test_every_doc_page_is_linked_from_the_readme():
    text = README.read_text()
    for page in PAGES[1:]:
        assert f'(docs/{page.name})' in text, page.name
