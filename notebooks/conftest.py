"""nbval for the notebooks of D2L §16.2 and §16.4, with a tolerance for
numbers that depend on the CPU.

oneDNN and OpenBLAS choose their kernels from the CPU's instruction set
(SSE4.1, AVX2, AVX-512, ...), so trained models, and the RMSEs printed
from them, can differ in their last digits from one CPU to another.  A
code cell with the line ``# NBVAL_TOLERANCE=0.002`` (any number) has the
numbers in its outputs compared within that absolute tolerance: each
number of the new output that is at most that far from the number in the
same place of the recorded output counts as equal.  Everything else is
compared exactly, by nbval itself: the text around the numbers, their
count and the numbers beyond the tolerance, whose difference nbval shows
as usual.  Cells without the line are compared exactly.  At the end, the
test run lists for each marked cell the largest difference it saw.
"""
import re
from decimal import Decimal

from nbval.plugin import IPyNbCell

MARKER = re.compile(r'^#\s*NBVAL_TOLERANCE=([0-9.eE+-]+)(?![0-9.eE+-])',
                    re.MULTILINE)
NUMBER = re.compile(r'([-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)')

#: The largest difference seen in each marked cell, and its tolerance.
SPREAD = {}


def cell_tolerance(source):
    """The tolerance of a cell's `source` (a Decimal), or None."""
    found = MARKER.findall(source)
    if len(found) > 1:
        raise ValueError(f'more than one NBVAL_TOLERANCE line in:\n{source}')
    return Decimal(found[0]) if found else None


def snap(text, recorded, tolerance):
    """Return `text` with each number that is within `tolerance` of the
    number in the same place of `recorded` replaced by that one, and the
    largest difference between such pairs of numbers (None, and `text`
    unchanged, if the text around the numbers or their count differs)."""
    parts, recorded_parts = NUMBER.split(text), NUMBER.split(recorded)
    if (len(parts) != len(recorded_parts)
            or parts[::2] != recorded_parts[::2]):
        return text, None
    largest = Decimal(0)
    for k in range(1, len(parts), 2):
        difference = abs(Decimal(parts[k]) - Decimal(recorded_parts[k]))
        largest = max(largest, difference)
        if difference <= tolerance:
            parts[k] = recorded_parts[k]
    return ''.join(parts), largest


def snap_outputs(outputs, recorded, tolerance, skip=()):
    """Snap (see `snap`) the text of each output to that of the recorded
    output in the same place, in place, except the MIME types in `skip`
    (those nbval does not compare); return the largest difference (None
    if some text or output could not be matched)."""
    largest = Decimal(0) if len(outputs) == len(recorded) else None
    for output, reference in zip(outputs, recorded):
        if output['output_type'] != reference['output_type']:
            largest = None
            continue
        if output['output_type'] == 'stream':
            fields = [(output, reference, 'text')]
        else:
            fields = [(output['data'], reference['data'], key)
                      for key, value in output['data'].items()
                      if key not in skip and isinstance(value, str)
                      and isinstance(reference['data'].get(key), str)]
        for new, old, key in fields:
            new[key], difference = snap(new[key], old[key], tolerance)
            largest = (None if None in (largest, difference)
                       else max(largest, difference))
    return largest


def within_tolerance(cell, tolerance):
    """`cell`'s nbval comparison, after snapping its outputs."""
    compare = cell.compare_outputs

    def compare_outputs(test, ref, skip_compare=None):
        largest = snap_outputs(test, ref, tolerance,
                               skip_compare or cell.parent.skip_compare)
        SPREAD[cell.nodeid] = (largest, tolerance)
        return compare(test, ref, skip_compare)
    return compare_outputs


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell):
            tolerance = cell_tolerance(item.cell.source)
            if tolerance is not None:
                item.compare_outputs = within_tolerance(item, tolerance)


def pytest_terminal_summary(terminalreporter):
    if SPREAD:
        terminalreporter.section('numbers compared within a tolerance')
    for nodeid, (largest, tolerance) in SPREAD.items():
        seen = ('text differs' if largest is None
                else f'largest difference {largest}')
        terminalreporter.write_line(f'{nodeid}: {seen} (tolerance '
                                    f'{tolerance})')
