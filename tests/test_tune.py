"""The validation search (d2lrec.lab.tune.coordinate_search)."""
from d2lrec.lab.config import Config
from d2lrec.lab.tune import coordinate_search


def test_coordinate_search_keeps_the_best_option_of_each_stage(
        monkeypatch):
    calls = []

    def fake(config, data, validation):  # best at 8, wd 1e-4
        calls.append(config)
        assert validation is True
        return abs(config.hidden_layers[0] - 8) + abs(config.wd - 1e-4)

    monkeypatch.setattr('d2lrec.lab.sweep._test_rmse', fake)
    space = (('hidden', ({'hidden_layers': (4,)}, {'hidden_layers': (8,)})),
             ('wd', ({'wd': 1e-5}, {'wd': 1e-4})))
    best, log = coordinate_search(space, Config(hidden_layers=(4,),
                                                wd=1e-5), workers=1)
    assert best == Config(hidden_layers=(8,), wd=1e-4)
    assert list(log['chosen']) == [False, True, False, True]
    assert len(calls) == 3  # the incumbent is not trained twice
