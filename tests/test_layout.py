"""The package's layout: the book's helper at the top of ``d2lrec/``
(D2L §16.2-§16.4) and the lab beside it, ``d2lrec/lab/``.

Every import between d2lrec's modules, also those inside functions, is
read from their source.  The graph they make has no cycle, and no module
of the book's helper imports the lab.  Two modules at the top serve the
command line as well: ``__main__`` (``python -m d2lrec`` is the lab's
`cli`) and the package itself, whose ``__getattr__`` names the lab's
public names and which hands Ctrl-C while ``python -m d2lrec`` loads to
the command line.  What the book's own code loads is measured in
test_book.py.
"""
import ast
import pathlib

PACKAGE = pathlib.Path(__file__).parents[1] / 'd2lrec'

#: The modules at the top that also serve the command line.
ENTRIES = {'d2lrec', 'd2lrec.__main__'}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports(path, modules):
    """The `modules` that the module at `path` imports, anywhere in it:
    ``from d2lrec import x`` imports the module ``d2lrec.x`` if there is
    one, else the name x of ``d2lrec``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f'{node.module}.{alias.name}'
                found.add(name if name in modules else node.module)
    return found & set(modules)


def graph():
    """Module -> the d2lrec modules it imports.  A module's package is
    left out: Python imports it first for every module inside it."""
    paths = {module_name(p): p for p in PACKAGE.rglob('*.py')}
    return {name: imports(path, paths) - {name, name.rpartition('.')[0]}
            for name, path in paths.items()}


def test_the_import_graph_has_no_cycle():
    edges = graph()
    done, path = set(), []

    def visit(name):
        assert name not in path, f'import cycle: {path + [name]}'
        if name in done:
            return
        path.append(name)
        for other in sorted(edges[name]):
            visit(other)
        path.pop()
        done.add(name)
    for name in sorted(edges):
        visit(name)


def test_no_module_of_the_books_helper_imports_the_lab():
    edges = graph()
    book = {name for name in edges if not name.startswith('d2lrec.lab')}
    assert 'd2lrec.data' in book and 'd2lrec.lab.cli' in edges
    wrong = {name: sorted(i for i in edges[name]
                          if i.startswith('d2lrec.lab'))
             for name in book - ENTRIES}
    assert not any(wrong.values()), wrong


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    assert 'd2lrec.fetch' in edges['d2lrec.download']  # inside a function
    assert 'd2lrec.lab.cli' in edges['d2lrec.__main__']
