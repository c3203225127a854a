"""The classroom assignment, assignments/ (docs/classroom.md), graded as
a course grades it: nbgrader makes the student release in a new course
folder and autogrades four submissions, on the real data.

* the solution: full marks on every autograded part;
* the untouched release: zero on every autograded part, and the
  grader runs to the end;
* a forward pass with no mask, and an RMSE over every entry: each loses
  its own part's points and keeps the others'.

The answers in words are graded by hand, so they score nothing here.
Also: the committed release is what ``make assignment`` makes now.
"""
import os
import pathlib
import shutil
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).parents[1]
COURSE = ROOT / 'assignments'
NAME = 'autorec'
SOURCE = COURSE / 'source' / NAME / f'{NAME}.ipynb'
RELEASE = COURSE / 'release' / NAME / f'{NAME}.ipynb'

#: The autograded test cells of each part, by part.
PARTS = {'forward': ('test_forward_masks', 'test_forward_gradient'),
         'rmse': ('test_rmse_small', 'test_rmse_reference'),
         'sweep': ('test_sweep_shape', 'test_sweep_reference'),
         'activation': ('test_activation_shape',
                        'test_activation_reference'),
         'user': ('test_user_shape', 'test_user_reference')}
TESTS = [name for names in PARTS.values() for name in names]

#: The wrong submissions: (the solution's text, what replaces it).
WRONG = {
    'no_mask': ('forward', '''\
        if autograd.is_training():  # Mask the gradient during training
            return pred * np.sign(input)
        else:
            return pred''', '''\
        return pred'''),
    'rmse_all': ('rmse', '''\
    observed = np.sign(test_data)
    return float(np.sqrt(np.sum(np.square(test_data - observed * recons))
                         / np.sum(observed)))''', '''\
    return float(np.sqrt(np.mean(np.square(test_data - recons))))''')}


@pytest.fixture(scope='module')
def nbgrader():
    """The command line of nbgrader, in this environment (.venv); its
    kernel and alembic are found on the PATH, so this environment's
    folder of commands comes first."""
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        if os.environ.get('CI'):
            pytest.fail('CI needs nbgrader (requirements.txt)')
        pytest.skip('nbgrader is in requirements.txt (.venv, Python 3.11)')
    env = dict(os.environ, PATH=os.pathsep.join(
        [str(pathlib.Path(sys.executable).parent), os.environ['PATH']]))

    def run(*args, cwd):
        done = subprocess.run([sys.executable, '-m', 'nbgrader', *args],
                              cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=1800)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr
    return run


def solutions():
    """{grade_id: the solution cell's text, without the markers}."""
    cells = nbformat.read(SOURCE, 4).cells
    return {cell.metadata.nbgrader.grade_id: '\n'.join(
        line for line in cell.source.splitlines()
        if line.strip() not in ('### BEGIN SOLUTION', '### END SOLUTION'))
        for cell in cells
        if cell.metadata.get('nbgrader', {}).get('solution')}


def submission(answers):
    """The release with the solution cells `answers` names filled in."""
    notebook = nbformat.read(RELEASE, 4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get('nbgrader', {}).get('grade_id')
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def submissions():
    """{student: notebook}: the solution, the untouched release and the
    wrong ones."""
    right = solutions()
    out = {'solution': submission(right), 'untouched': submission({})}
    for student, (grade_id, old, new) in WRONG.items():
        assert old in right[grade_id], (grade_id, old)
        out[student] = submission(
            {**right, grade_id: right[grade_id].replace(old, new)})
    return out


@pytest.fixture(scope='module')
def grades(nbgrader, real_data, tmp_path_factory):
    """{student: {test cell: (score, max score)}}, from autograding the
    submissions in a new course folder."""
    from nbgrader.api import Gradebook
    course = tmp_path_factory.mktemp('course')
    shutil.copy(COURSE / 'nbgrader_config.py', course)
    shutil.copytree(COURSE / 'source', course / 'source')
    nbgrader('generate_assignment', NAME, cwd=course)
    for student, notebook in submissions().items():
        folder = course / 'submitted' / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f'{NAME}.ipynb')
    nbgrader('autograde', NAME, cwd=course)
    out = {}
    with Gradebook(f'sqlite:///{course / "gradebook.db"}') as book:
        for student in submissions():
            notebook = book.find_submission_notebook(NAME, NAME, student)
            out[student] = {grade.name: (grade.score, grade.max_score)
                            for grade in notebook.grades
                            if grade.name in TESTS}
    return out


def test_the_committed_release_is_what_make_assignment_makes(
        nbgrader, tmp_path):
    shutil.copy(COURSE / 'nbgrader_config.py', tmp_path)
    shutil.copytree(COURSE / 'source', tmp_path / 'source')
    nbgrader('generate_assignment', NAME, '--no-db', cwd=tmp_path)
    made = tmp_path / 'release' / NAME / f'{NAME}.ipynb'
    assert made.read_text() == RELEASE.read_text(), (
        'assignments/release is not what assignments/source makes now: '
        'run make assignment')


def test_the_release_hides_the_solutions_and_hidden_tests():
    text = RELEASE.read_text()
    for marker in ('BEGIN SOLUTION', 'BEGIN HIDDEN TESTS', 'set_data',
                   'pred * np.sign(input)', 'observed * recons',
                   'sweep[size] ='):
        assert marker not in text, marker
    cells = nbformat.read(RELEASE, 4).cells
    stubs = [cell.metadata.nbgrader.grade_id for cell in cells
             if 'raise NotImplementedError()' in cell.source
             and cell.cell_type == 'code']
    assert stubs == ['forward', 'rmse', 'sweep', 'activation', 'user']
    answers = [cell.metadata.nbgrader.grade_id for cell in cells
               if cell.source == 'YOUR ANSWER HERE']
    assert answers == ['mask_answer', 'sweep_answer', 'activation_answer',
                       'user_answer']


def test_every_test_cell_has_points():
    points = {cell.metadata.nbgrader.grade_id:
              cell.metadata.nbgrader.get('points')
              for cell in nbformat.read(SOURCE, 4).cells
              if cell.metadata.get('nbgrader', {}).get('grade')}
    assert {name for name in points if name.startswith('test_')} \
        == set(TESTS)
    assert sum(points[name] for name in TESTS) == 15
    assert sum(points.values()) == 23  # 8 for the answers in words


def test_the_solution_gets_full_marks(grades):
    assert set(grades['solution']) == set(TESTS)
    assert all(score == most
               for score, most in grades['solution'].values()), grades[
                   'solution']


def test_the_untouched_release_gets_zero(grades):
    assert set(grades['untouched']) == set(TESTS)
    assert all(score == 0 for score, _ in grades['untouched'].values()), \
        grades['untouched']


@pytest.mark.parametrize('student, part', [('no_mask', 'forward'),
                                           ('rmse_all', 'rmse')])
def test_a_wrong_part_loses_its_points_only(grades, student, part):
    for name, (score, most) in grades[student].items():
        wanted = 0 if name in PARTS[part] else most
        assert score == wanted, (student, name, score)
