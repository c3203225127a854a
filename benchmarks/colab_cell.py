"""Wall time of the notebooks' first cell on a simulated Colab runtime
(docs/colab.md): the CPU and GPU variants, cold (pip's cache empty) and
warm (every wheel the cell installs already on disk), on each Python
given.

The runtime is tests/test_colab_runtime.py's: a venv with the newest
numpy 2, scipy, pandas, matplotlib, IPython and ipykernel, and a
stand-in google.colab.  Notebook 02's first cell runs in a process that
has imported google.colab and numpy, as Colab's kernel has, and d2lrec
comes from this checkout's committed HEAD (git's ``insteadOf``), where
Colab clones GitHub.  The time is the cell's alone, taken in that
process.  Every run starts from a copy of the same runtime.  The GPU
variant fakes ``nvidia-smi`` (compute capability 7.5, a T4) and lends
the cell's import check the driver stand-in (tests/cuda_stand_in): no
GPU runs here.

Warm: pip's HTTP cache would hold the wheels, but on a machine whose
package index answers without cache headers pip stores nothing (it logs
"Updating cache" and writes no file).  So the warm run gets the wheels
from a folder that ``pip download`` filled, and nothing from the network
(``--no-index --find-links``): pip with a filled cache would still ask
the index for each project's page.  A benchmark, not a test: the network
and the disk set most of the time.

    python benchmarks/colab_cell.py /path/to/python3.12 /path/to/python3.13
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from cuda_stand_in import build  # noqa: E402

NOTEBOOK = ROOT / 'notebooks' / '02-autorec.ipynb'
COLAB_HAS = ['numpy<3', 'scipy', 'pandas', 'matplotlib', 'ipython',
             'ipykernel']
TIMED = '''import google.colab, numpy, time  # as in Colab's kernel
start = time.perf_counter()
exec(compile({cell!r}, 'cell', 'exec'))
print(f'{{time.perf_counter() - start:.1f}}')
'''


def first_code_cell():
    cells = json.loads(NOTEBOOK.read_text())['cells']
    return ''.join(next(c for c in cells
                        if c['cell_type'] == 'code')['source'])


def make_runtime(python, venv):
    """A venv shaped like Colab's runtime before the cell."""
    subprocess.run([python, '-m', 'venv', str(venv)], check=True)
    subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', 'install',
                    '-q', '--upgrade', *COLAB_HAS], check=True)
    site = next((venv / 'lib').glob('python3.*/site-packages'))
    (site / 'google' / 'colab').mkdir(parents=True)
    (site / 'google' / 'colab' / '__init__.py').write_text('')


def gpu_env(where):
    """PATH and LD_LIBRARY_PATH of a T4 runtime: a fake nvidia-smi, and
    the driver stand-in."""
    smi = where / 'bin' / 'nvidia-smi'
    smi.parent.mkdir()
    smi.write_text('#!/bin/sh\necho 7.5\n')
    smi.chmod(0o755)
    driver = build(where)
    return dict(PATH=f'{smi.parent}{os.pathsep}{os.environ["PATH"]}',
                LD_LIBRARY_PATH=str(driver))


def fill(wheels, python, stack):
    """Download into `wheels` what the cell may install from `stack`
    for `python`, and the setuptools that builds d2lrec."""
    subprocess.run([python, '-m', 'pip', 'download', '-q', '--no-deps',
                    '-d', str(wheels), '-r', str(stack), 'setuptools>=64'],
                   check=True)


def time_cell(runtime, venv, cache, extra_env, wheels=None):
    """Run the cell in a copy of `runtime` with pip's cache `cache`, and
    the wheels in folder `wheels` if given; return its seconds and what
    it said."""
    shutil.rmtree(venv, ignore_errors=True)
    shutil.copytree(runtime, venv, symlinks=True)
    cell = first_code_cell()
    source = re.search(r"'git\+([^']+)'", cell)[1]
    env = dict(os.environ, PIP_CACHE_DIR=str(cache), GIT_CONFIG_COUNT='1',
               GIT_CONFIG_KEY_0=f'url.{ROOT}.insteadOf',
               GIT_CONFIG_VALUE_0=source, **extra_env)
    if wheels:
        env.update(PIP_NO_INDEX='1', PIP_FIND_LINKS=str(wheels))
    env.pop('PYTHONPATH', None)
    out = subprocess.run([str(venv / 'bin' / 'python'), '-c',
                          TIMED.format(cell=cell)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    said, seconds = out.stdout.splitlines()[-2:]
    shutil.rmtree(venv)
    return float(seconds), said


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pythons', nargs='+')
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        gpu = gpu_env(tmp)
        for python in args.pythons:
            runtime = tmp / 'runtime'
            shutil.rmtree(runtime, ignore_errors=True)
            make_runtime(python, runtime)
            version = subprocess.run(
                [str(runtime / 'bin' / 'python'), '-c',
                 'import sys; print("%d.%d.%d" % sys.version_info[:3])'],
                capture_output=True, text=True).stdout.strip()
            for variant, extra_env, stack in (
                    ('CPU', {}, 'stack.txt'),
                    ('GPU', gpu, 'stack-cu112.txt')):
                cache, wheels = tmp / 'cache', tmp / 'wheels'
                for state in ('cold', 'warm'):
                    if state == 'warm':
                        fill(wheels, runtime / 'bin' / 'python',
                             ROOT / 'd2lrec' / stack)
                    seconds, said = time_cell(
                        runtime, tmp / 'run', cache, extra_env,
                        wheels if state == 'warm' else None)
                    row = dict(python=version, variant=variant,
                               cache=state, seconds=seconds, said=said)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    shutil.rmtree(cache, ignore_errors=True)
                shutil.rmtree(wheels)
    print('\n| Python | runtime | cold | warm |\n|---|---|---|---|')
    for k in range(0, len(rows), 2):
        cold, warm = rows[k], rows[k + 1]
        print(f'| {cold["python"]} | {cold["variant"]} | '
              f'{cold["seconds"]:.0f} s | {warm["seconds"]:.0f} s |')


if __name__ == '__main__':
    main()
