"""The benchmarks' results: where they go, and how a table is written."""
import csv
import pathlib

#: The folder of the results, in the d2lrec package: notebook 06 reads
#: them there, on Colab too, and docs/results.md shows them
#: (tests/test_results.py).
RESULTS = pathlib.Path(__file__).parents[1] / 'd2lrec' / 'results'


def write_csv(rows, name):
    """Write `rows` (dicts with the same keys) to RESULTS/`name`."""
    path = RESULTS / name
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f'wrote {len(rows)} rows to {path}')
